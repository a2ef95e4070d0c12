"""One registry with one "did you mean" for everything named on a command line: networks,
export formats, runtimes, planted bugs."""

from __future__ import annotations

import difflib
from typing import Generic, ItemsView, Iterable, Iterator, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """A name nothing is registered under; the message offers close names and lists the known."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class Registry(Generic[T]):
    """Items by unique name, in registration order. ``kind`` and ``plural`` word the error for an
    unknown name ("unknown format 'x'. Did you mean ...? Known formats: ..."), raised as
    ``error`` (a subclass of ``UnknownNameError`` each caller can catch by its own name)."""

    def __init__(self, kind: str, plural: str | None = None, error: type[UnknownNameError] = UnknownNameError,
                 items: Iterable[tuple[str, T]] = ()):
        self.kind, self.plural, self.error = kind, plural or f"{kind}s", error
        self._items: dict[str, T] = {}
        for name, item in items:
            self.add(name, item)

    def add(self, name: str, item: T) -> T:
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} registered twice")
        self._items[name] = item
        return item

    def __getitem__(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._items, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise self.error(f"unknown {self.kind} {name!r}.{hint} Known {self.plural}: {', '.join(self._items)}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def names(self) -> list[str]:
        return list(self._items)

    def values(self) -> list[T]:
        return list(self._items.values())

    def items(self) -> ItemsView[str, T]:
        return self._items.items()
