"""The export tools' known limits: a route that cannot do what it should for a network because
of the tool, not of the twin, each proven by a minimal repro under ``docs/limits/``. Every export
record of such a (network, route) names its limit (``tool_limit``), and so does the report."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ToolLimit:
    name: str                       # docs/limits/<name>.md holds the repro
    formats: tuple[str, ...]
    networks: tuple[str, ...]
    what: str                       # one line: what the tool cannot do

    @property
    def repro(self) -> str:
        """The repro's path in the repository (the report names it; the package does not ship docs)."""
        return f"docs/limits/{self.name}.md"

    def note(self) -> dict[str, str]:
        return {"name": self.name, "what": self.what, "repro": self.repro}


LIMITS = (
    ToolLimit("litert-torch-lstm", ("tflite_torch",), ("lstm_sentiment", "gnmt", "pixel_rnn"),
              "litert-torch has no loop op: it unrolls a recurrence step by step (no LSTM composite; "
              "a scan loop fails with 'Lowering not found: scan')"),
    ToolLimit("torch-nnapi-lstm", ("nnapi_torch",), ("lstm_sentiment", "gnmt"),
              "torch's NNAPI converter has no LSTM (it stops at aten::zeros, the initial state)"),
)


def limit_for(network: str, fmt: str) -> ToolLimit | None:
    return next((lim for lim in LIMITS if fmt in lim.formats and network in lim.networks), None)
