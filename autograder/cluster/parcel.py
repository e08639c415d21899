"""What travels between ``dlf grade`` and a Dask worker, and the strict reading of what comes back.

Client side. Out: a *parcel*, plain data: a random token, the assignment's id (its folder
name, ``04_costs``) and the notebook's name in it, the notebook's bytes and the bytes of the regular files handed in
beside it (read exactly as local grading reads them, ``autograder/sandbox/files.py``, never
through a symbolic link), what reading them found, the limits and the client's grader
identity. No path and no student id: a worker never learns who handed it in.

Back: one JSON document (bytes). It is parsed as data and nothing of it is executed; it
counts only when it echoes the parcel's token and the SHA-256 of the notebook sent, and
when its items are exactly the graded cells of the client's source notebook, with their
points. The student, assignment and notebook of the result are the client's, never the
worker's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from autograder.grading.grade import ItemResult, NotebookResult, expected_items
from autograder.sandbox.files import open_submission
from autograder.sandbox.limits import Limits

# A reply is the result and the executed notebook (outputs are capped per cell in the sandbox).
MAX_REPLY_BYTES = 256 * 1024**2
ITEM_KINDS = ("autograded", "manual")


class ReplyRefused(ValueError):
    """A worker's reply that does not belong to the parcel, or is not a result; says why."""


@dataclass(frozen=True)
class Graded:
    result: NotebookResult


@dataclass(frozen=True)
class WrongGrader:
    """The worker runs another grader: it graded nothing."""

    worker: str
    identity: dict[str, str]


@dataclass(frozen=True)
class Failed:
    """The worker's grader failed on this parcel (not the notebook: the machinery)."""

    reason: str


Reply = Graded | WrongGrader | Failed


def pack(submission: Path, assignment: str, notebook: str, limits: Limits | None,
         identity: dict[str, str]) -> dict[str, Any]:
    """The parcel of one submission; raises ``SubmissionRefused`` as local grading would."""
    limits = limits or Limits()
    handed_in = open_submission(submission, max_files=limits.max_files,
                                max_bytes=limits.max_files_bytes)
    try:
        budget = limits.max_files_bytes
        files = []
        for name, fd in handed_in.files:
            data = _read_at_most(fd, budget)
            budget -= len(data)
            files.append([name, data])
    finally:
        handed_in.close()
    return {"token": secrets.token_hex(16), "assignment": assignment, "name": notebook,
            "notebook": handed_in.notebook, "files": files,
            "problems": list(handed_in.problems), "flags": list(handed_in.flags),
            "limits": dataclasses.asdict(limits), "identity": dict(identity)}


def _read_at_most(fd: int, budget: int) -> bytes:
    chunks = []
    while budget > 0 and (chunk := os.read(fd, min(1 << 20, budget))):
        chunks.append(chunk)
        budget -= len(chunk)
    return b"".join(chunks)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_reply(raw: object, parcel: dict[str, Any], *, source: Path, student: str) -> Reply:
    """What a worker sent back for ``parcel``, checked; raises ``ReplyRefused`` when it does
    not belong to that parcel or is not a well-formed result."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise ReplyRefused(f"the reply is a {type(raw).__name__}, not the bytes of a JSON document")
    if len(raw) > MAX_REPLY_BYTES:
        raise ReplyRefused(f"the reply holds {len(raw)} bytes, more than {MAX_REPLY_BYTES}")
    try:
        data = json.loads(bytes(raw))
    except ValueError as exc:
        raise ReplyRefused(f"the reply is not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("token") != parcel["token"]:
        raise ReplyRefused("the reply does not carry this submission's token")
    if "wrong_grader" in data:
        ident = data.get("identity")
        if not isinstance(ident, dict):
            raise ReplyRefused("a refusal without the worker's identity")
        return WrongGrader(_text(data.get("worker"), "worker"),
                           {str(k): str(v) for k, v in ident.items()})
    if "failed" in data:
        return Failed(_text(data["failed"], "failed")[:2000])
    if data.get("sha256") != sha256(parcel["notebook"]):
        raise ReplyRefused("the reply was computed for another notebook (its SHA-256 differs)")
    result = _result(data.get("result"), source=source, student=student,
                     assignment=parcel["assignment"], name=parcel["name"])
    notebook = data.get("notebook")
    if notebook is not None:
        result.notebook = _notebook(notebook)
    return Graded(result)


def _result(data: object, *, source: Path, student: str, assignment: str,
            name: str) -> NotebookResult:
    if not isinstance(data, dict):
        raise ReplyRefused("the reply holds no result")
    items = data.get("items")
    if not isinstance(items, list):
        raise ReplyRefused("the result holds no list of items")
    wanted = expected_items(source)
    if [(i.get("grade_id"), i.get("kind"), i.get("max_points")) if isinstance(i, dict) else None
            for i in items] != wanted:
        raise ReplyRefused("the result's items are not the graded cells of the source notebook")
    return NotebookResult(
        assignment, student, [_item(i) for i in items],
        _texts(data.get("problems"), "problems"), None, _number(data.get("seconds"), "seconds"),
        _texts(data.get("isolation"), "isolation"), _texts(data.get("flags"), "flags"), name)


def _item(data: dict[str, Any]) -> ItemResult:
    fields = {f.name for f in dataclasses.fields(ItemResult)}
    if set(data) != fields:
        raise ReplyRefused(f"an item has fields {sorted(data)}, expected {sorted(fields)}")
    points = data["points"]
    if data["kind"] not in ITEM_KINDS:
        raise ReplyRefused(f"an item of kind {data['kind']!r}")
    max_points = _number(data["max_points"], "max_points")
    if points is not None and not 0 <= _number(points, "points") <= max_points:
        raise ReplyRefused(f"an item scores {points!r} of {max_points}")
    return ItemResult(_text(data["grade_id"], "grade_id"), data["kind"], max_points,
                      None if points is None else float(points),
                      _texts(data["messages"], "messages"), _texts(data["mistakes"], "mistakes"),
                      _texts(data["details"], "details"))


def _notebook(data: object) -> NotebookNode:
    """The executed notebook, as the JSON object of a version 4 notebook (validated against
    nbformat's schema when it is written, as local grading's is)."""
    if not (isinstance(data, dict) and data.get("nbformat") == 4
            and isinstance(data.get("metadata"), dict) and isinstance(data.get("cells"), list)
            and all(isinstance(c, dict) for c in data["cells"])):
        raise ReplyRefused("the executed notebook is not a version 4 notebook")
    return nbformat.from_dict(data)


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ReplyRefused(f"{what} is a {type(value).__name__}, not text")
    return value


def _texts(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ReplyRefused(f"{what} is not a list of text")
    return list(value)


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ReplyRefused(f"{what} is {value!r}, not a finite number")
    return float(value)
