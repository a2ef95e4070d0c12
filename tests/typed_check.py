"""Whether a JSON value is what a typed record declares (``export.records``, ``benchmark.records``):
every key declared, every ``Required`` key there, every value of its declared type, nested
records checked the same way. A list of problems, each with its path; empty when it conforms."""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict


def problems(value: Any, hint: Any, path: str = "$") -> list[str]:
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return []
    if hint is type(None):
        return [] if value is None else [f"{path}: {value!r} is not None"]
    if origin in (Union, types.UnionType):
        tries = [problems(value, a, path) for a in args]
        return [] if any(not t for t in tries) else min(tries, key=len)
    if origin is Literal:
        return [] if value in args else [f"{path}: {value!r} is not one of {list(args)}"]
    if is_typeddict(hint):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not a {hint.__name__} record"]
        fields = get_type_hints(hint)
        out = [f"{path}.{k}: not declared in {hint.__name__}" for k in value if k not in fields]
        out += [f"{path}.{k}: required by {hint.__name__}, missing" for k in hint.__required_keys__ if k not in value]
        for k, v in value.items():
            if k in fields:
                out += problems(v, fields[k], f"{path}.{k}")
        return out
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__}, not a list"]
        return [p for i, v in enumerate(value) for p in problems(v, args[0], f"{path}[{i}]")] if args else []
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not an object"]
        return [p for k, v in value.items() for p in problems(v, args[1], f"{path}.{k}")] if args else []
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, hint)
    return [] if ok else [f"{path}: {value!r} is not {getattr(hint, '__name__', hint)}"]

