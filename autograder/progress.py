"""A dependency-free progress bar with an ETA, drawn on stderr."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], *, total: int, label: str) -> Iterator[T]:
    start = time.monotonic()
    stream = sys.stderr
    for done, item in enumerate(items):
        _draw(stream, label, done, total, start)
        yield item
    _draw(stream, label, total, total, start)
    stream.write("\n")


def _draw(stream: object, label: str, done: int, total: int, start: float) -> None:
    width = 30
    frac = done / total if total else 1.0
    elapsed = time.monotonic() - start
    eta = elapsed / done * (total - done) if done else 0.0
    bar = "#" * int(width * frac) + "-" * (width - int(width * frac))
    text = f"\r{label} [{bar}] {done}/{total} elapsed {elapsed:5.1f}s eta {eta:5.1f}s"
    stream.write(text)  # type: ignore[attr-defined]
    stream.flush()  # type: ignore[attr-defined]
