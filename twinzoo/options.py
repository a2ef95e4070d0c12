"""Checking builder options against a builder's signature, shared by both twins' ``build``."""

from __future__ import annotations

import inspect
from typing import Any, Callable


def check_options(model: str, builder: Callable[..., Any], opts: dict[str, Any],
                  framework_only: tuple[str, ...] = ()) -> None:
    """Raise TypeError naming any option the builder does not take, and listing those it does."""
    params = inspect.signature(builder).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    known = [n for n in params if n not in framework_only]
    unknown = sorted(set(opts) - set(params))
    if unknown:
        raise TypeError(f"{model}: unknown option(s) {', '.join(map(repr, unknown))}; "
                        f"options: {', '.join(known) or 'none'}")
