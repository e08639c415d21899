"""Carry observations out of the student's kernel as data, never as code.

Each observation becomes one JSON line, ``{"e": "record", "id": ..., "hidden": ...,
"obs": [[status, value], ...]}``; values are encoded by ``autograder.checks.values`` and
decoded by the grader as plain values only (numbers, strings, arrays loaded with
``allow_pickle=False``, tuples), so nothing a student returns can run in the grader.

In the course's sandbox the runner calls ``connect(fd, hidden_blob)`` before any
student code: records go to the sandbox's event stream, an inherited pipe no other
process can open by name, where the grader reads them in order between the ``start``
and ``end`` of the cell that wrote them. Outside the sandbox nothing is connected and
``emit`` does nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from autograder.checks.values import decode, encode

ENV = "DLF_CHANNEL"
_write = os.write
_open = os.open
_dumps = json.dumps

_fd: int | None = None
hidden_blob: bytes = b""  # what the grader handed the sandbox for the hidden checks


def connect(fd: int, hidden_blob: bytes = b"") -> None:
    """Send records to ``fd`` from now on, and keep ``hidden_blob`` in this module's ``hidden_blob``.

    The blob holds the hidden cases' inputs (``autograder.specs.export.hidden_blob``),
    never their labels or expected values.
    """
    global _fd
    _fd = fd
    globals()["hidden_blob"] = bytes(hidden_blob)  # the parameter shadows the module's name


def record_line(check_id: str, hidden: bool, observations: Sequence[tuple[str, Any]]) -> bytes:
    record = {"e": "record", "id": check_id, "hidden": hidden,
              "obs": [[status, encode(value)] for status, value in observations]}
    return (_dumps(record) + "\n").encode()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[_write(fd, view):]


def emit(check_id: str, hidden: bool, observations: Sequence[tuple[str, Any]]) -> None:
    """Write one record to the connected stream; nothing when none is connected."""
    if _fd is not None:
        _write_all(_fd, record_line(check_id, hidden, observations))


class Channel:
    """A record sink: the connected stream, or an append-only file (for tests and tools)."""

    def __init__(self, path: str | None) -> None:
        self.fd = _open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600) if path else None

    def emit(self, check_id: str, hidden: bool, observations: Sequence[tuple[str, Any]]) -> None:
        if self.fd is None:
            emit(check_id, hidden, observations)
        else:
            _write_all(self.fd, record_line(check_id, hidden, observations))


def parse_record(raw: Any) -> dict[str, Any]:
    """A record event's check id, hidden flag and decoded observations; ValueError if malformed."""
    if not isinstance(raw, dict) or not isinstance(raw.get("obs"), list):
        raise ValueError("a record needs an id, a hidden flag and a list of observations")
    if not isinstance(raw.get("id"), str) or not isinstance(raw.get("hidden"), bool):
        raise ValueError("a record's id must be a string and hidden a boolean")
    obs = []
    for item in raw["obs"]:
        if not isinstance(item, list) or len(item) != 2 or item[0] not in ("ok", "error"):
            raise ValueError("an observation is [\"ok\" or \"error\", value]")
        obs.append((item[0], decode(item[1], plain=True)))
    return {"id": raw["id"], "hidden": raw["hidden"], "obs": obs}


def read_records(path: str, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Records appended to a file since ``offset``, decoded; malformed lines are skipped."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read()
    records = []
    for line in data.splitlines():
        try:
            records.append(parse_record(json.loads(line)))
        except Exception:
            continue
    return records, offset + len(data)
