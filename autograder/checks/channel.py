"""Carry observations out of the student's kernel as data, never as code.

Each check call becomes one JSON line (``{"e": "record", "id", "hidden", "obs"}``) written
to a file descriptor the grader's runner hands over before any student code runs
(``connect``); values are encoded by ``autograder.checks.values``. The runner also hands
over the hidden cases' inputs (``hidden_blob``), which never include expected values.
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

fd: int | None = None
hidden_blob: bytes = b""
cell = -1  # set by the runner before each cell


def connect(channel_fd: int, blob: bytes = b"") -> None:
    """Send records to ``channel_fd`` from now on; ``blob`` holds the hidden cases' inputs."""
    global fd, hidden_blob
    fd, hidden_blob = channel_fd, blob


def _connect_from_environment() -> None:
    path = os.environ.get(ENV)
    if path and fd is None:
        connect(_open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))


def record_line(check_id: str, hidden: bool, observations: Sequence[tuple[str, Any]]) -> bytes:
    record = {"e": "record", "id": check_id, "hidden": hidden, "cell": cell,
              "obs": [[status, encode(value)] for status, value in observations]}
    return (_dumps(record) + "\n").encode()


def emit(check_id: str, hidden: bool, observations: Sequence[tuple[str, Any]]) -> None:
    """Write one record, if a grader is listening."""
    if fd is None:
        return
    data = record_line(check_id, hidden, observations)
    while data:
        data = data[_write(fd, data):]


def parse_record(raw: dict[str, Any]) -> dict[str, Any]:
    """A record as the grader uses it; raises on anything malformed."""
    obs = raw["obs"]
    if not isinstance(obs, list):
        raise ValueError("observations must be a list")
    return {"id": str(raw["id"]), "hidden": bool(raw["hidden"]), "cell": int(raw.get("cell", -1)),
            "obs": [(str(s), decode(v, plain=True)) for s, v in obs]}


def read_records(path: str, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Records appended since ``offset``, decoded; malformed lines are skipped."""
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


_connect_from_environment()
