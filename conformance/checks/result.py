"""What every check returns: a status from one vocabulary, a one-line summary, the data behind
it; and the judgement of one of our counts against a published figure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from twinzoo.catalogue import Figure

from twinzoo.status import ERROR, FAIL, PASS, SKIP  # noqa: F401 (the checks' names for them)


@dataclass
class CheckResult:
    check: str
    status: str
    summary: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in (PASS, SKIP)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "summary": self.summary, **self.data}


def judge_figure(fig: Figure, ours: float) -> dict[str, Any]:
    """Our count against one published figure: within ``rel_tol`` (exact when 0)? An erratum
    is reported but never fails."""
    rel = abs(ours - fig.value) / fig.value
    within = (ours == fig.value) if fig.rel_tol == 0 else rel <= fig.rel_tol + 1e-12
    return {
        "value": fig.value, "ours": ours, "rel_diff": rel, "rel_tol": fig.rel_tol,
        "convention": fig.convention, "source": fig.source,
        **({"input_size": list(fig.input_size)} if fig.input_size else {}),
        **({"opts": dict(fig.opts)} if fig.opts else {}),
        **({"note": fig.note} if fig.note else {}),
        **({"erratum": fig.erratum} if fig.erratum else {}),
        "passed": bool(within) or bool(fig.erratum),
        "matches": bool(within),
    }
