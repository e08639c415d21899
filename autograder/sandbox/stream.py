"""Read one sandbox's event stream: check its grammar and give each record to its cell.

Grader side. The stream is the only thing that comes out of a sandbox. Everything in
it after the first cell starts may have been written by the student's code, so the
grader trusts positions, not claims: a record belongs to the cell between whose
``start`` and ``end`` it arrived. The grammar a sandbox must follow:

    isolation? (start (record | flag)* end?)* crash? exit

with the cells started in the order they were sent, each at most once, each ended
before the next starts (a cell without ``end`` is where the notebook died), records
only inside a cell, and nothing after ``exit``. Any other line, including a malformed
one, is a violation; a notebook with a violation is treated as tampered with.

Only the records of test cells are kept (at most one more than the cell's checks
need, to see that there were too many); the others are counted and dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_VIOLATIONS = 5
MAX_FLAGS = 100


@dataclass
class CellRun:
    index: int
    ended: bool = False
    error: str | None = None  # "ExceptionName: message" when the cell raised
    output: str = ""  # the tail of what it wrote to stdout
    out_bytes: int = 0
    stderr: str = ""  # the tail of what it wrote to stderr
    err_bytes: int = 0
    value: str | None = None  # the text/plain of the value it displayed (Jupyter's execute_result)
    records: list[dict[str, Any]] = field(default_factory=list)  # raw events, in order
    n_records: int = 0


@dataclass
class Flag:
    """A runtime flag from the audit hook: what, in which code, and which cell was running."""

    what: str
    where: str
    line: int
    cell: int | None


@dataclass
class EventStream:
    order: list[int]  # the code cells sent, in order
    keep: dict[int, int]  # test cell -> how many records to keep
    max_bytes: int
    cells: dict[int, CellRun] = field(default_factory=dict)
    current: int | None = None
    isolation: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    exit_status: int | None = None
    tmp_bytes: int = 0  # what the private /tmp held when the notebook ended
    oom_kills: int = 0  # processes the sandbox's memory cap killed
    crash: str | None = None
    flags: list[Flag] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    n_violations: int = 0
    bytes_read: int = 0
    flooded: bool = False
    _buffer: bytes = b""
    _next: int = 0
    _line: int = 0
    _started: bool = False
    _exited: bool = False

    def feed(self, chunk: bytes) -> None:
        """Take the next bytes of the stream; past ``max_bytes`` the rest is ignored."""
        if self.flooded:
            return
        room = self.max_bytes - self.bytes_read
        if len(chunk) > room:
            chunk, self.flooded = chunk[:room], True
        self.bytes_read += len(chunk)
        *lines, self._buffer = (self._buffer + chunk).split(b"\n")
        for line in lines:
            self._line += 1
            self._event(line)
        if self.flooded:
            self._buffer = b""

    def finish(self) -> None:
        """The stream has ended: an unfinished last line is a violation (unless cut by a flood)."""
        if self._buffer.strip() and not self.flooded:
            self._violation(f"line {self._line + 1} of the event stream is unfinished")
        self._buffer = b""

    @property
    def tampered(self) -> bool:
        return self.n_violations > 0

    def _violation(self, text: str) -> None:
        self.n_violations += 1
        if len(self.violations) < MAX_VIOLATIONS:
            self.violations.append(text)

    def _event(self, line: bytes) -> None:
        try:
            event = json.loads(line)
            kind = event["e"]
        except (ValueError, KeyError, TypeError):
            self._violation(f"line {self._line} of the event stream is not an event: {line[:80]!r}")
            return
        if self._exited:
            self._violation(f"a {kind!r} event came after the sandbox's exit")
            return
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            self._violation(f"line {self._line} is an unknown event {str(kind)[:40]!r}")
            return
        try:
            handler(self, event)
        except (KeyError, TypeError, ValueError) as exc:
            self._violation(f"line {self._line} is a malformed {kind!r} event ({exc})")

    def _on_isolation(self, event: dict[str, Any]) -> None:
        if self._started or self.isolation:
            self._violation("an isolation report came after the first cell started")
            return
        self.isolation = [str(x) for x in event["applied"]]
        self.missing = {str(k): str(v) for k, v in dict(event.get("missing", {})).items()}

    def _on_start(self, event: dict[str, Any]) -> None:
        index = int(event["i"])
        if self.current is not None:
            self._violation(f"cell {index + 1} started before cell {self.current + 1} ended")
            return
        expected = self.order[self._next] if self._next < len(self.order) else None
        if index != expected:
            self._violation(f"cell {index + 1} started where cell "
                            f"{'(none)' if expected is None else expected + 1} was next")
            return
        self._next += 1
        self._started = True
        self.current = index
        self.cells[index] = CellRun(index)

    def _on_end(self, event: dict[str, Any]) -> None:
        index = int(event["i"])
        if self.current is None or index != self.current:
            self._violation(f"cell {index + 1} ended without having started")
            return
        cell = self.cells[index]
        cell.ended = True
        cell.output = str(event.get("out", ""))
        cell.out_bytes = int(event.get("out_bytes", 0))
        cell.stderr = str(event.get("err", ""))
        cell.err_bytes = int(event.get("err_bytes", 0))
        if "value" in event:
            cell.value = str(event["value"])
        if "ename" in event:
            cell.error = f"{event['ename']}: {event.get('evalue', '')}"
        self.current = None

    def _on_record(self, event: dict[str, Any]) -> None:
        if self.current is None:
            self._violation("a check record was written outside any cell")
            return
        cell = self.cells[self.current]
        cell.n_records += 1
        wanted = self.keep.get(self.current)
        if wanted is not None and len(cell.records) <= wanted:
            cell.records.append(event)

    def _on_flag(self, event: dict[str, Any]) -> None:
        if len(self.flags) < MAX_FLAGS:
            self.flags.append(Flag(str(event["what"])[:300], str(event.get("where", ""))[:200],
                                   int(event.get("line", 0)), self.current))

    def _on_crash(self, event: dict[str, Any]) -> None:
        self.crash = str(event.get("error", ""))[-3000:]

    def _on_exit(self, event: dict[str, Any]) -> None:
        self.exit_status = int(event["status"])
        self.tmp_bytes = int(event.get("tmp_bytes", 0))
        self.oom_kills = int(event.get("oom_kills", 0))
        self._exited = True


_HANDLERS = {
    "isolation": EventStream._on_isolation,
    "start": EventStream._on_start,
    "end": EventStream._on_end,
    "record": EventStream._on_record,
    "flag": EventStream._on_flag,
    "crash": EventStream._on_crash,
    "exit": EventStream._on_exit,
}
