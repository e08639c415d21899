"""Grade one submission: every verdict is decided here, in the grader's process.

The submission runs in a sandbox that never held the answer key (``autograder.sandbox``);
what comes back is one ordered event stream. Records count for a test cell only when
they arrived between that cell's ``start`` and ``end``, and only as many as the
instructor's source makes ``check`` calls there, in that order. A stream that breaks
its grammar means the channel was tampered with: every autograded item scores 0.
"""

from __future__ import annotations

import ast
import functools
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from autograder.checks.channel import parse_record
from autograder.grading import keys
from autograder.grading.assemble import assemble
from autograder.grading.flags import instructor_cells, static_flags
from autograder.grading.plain import score_plain_cell
from autograder.nb.checksums import is_unchanged
from autograder.nb.course import CheckCall, check_calls, is_answer, is_test, is_written, nbgrader_meta
from autograder.sandbox.executor import Execution, execute, memory_cap_text
from autograder.sandbox.files import SubmissionFiles, SubmissionRefused, open_course_files, open_submission
from autograder.sandbox.limits import Limits
from autograder.sandbox.stream import Flag

# Protections without which the result says plainly that the sandbox was weaker.
CORE_PROTECTIONS = ("mount namespace", "allow-list root", "read-only", "private /tmp",
                    "no network", "pid namespace", "no capabilities")
MAX_FLAGS = 50
_CELL_NAME = re.compile(r"^<ipython-input-(\d+)-")


@dataclass
class ItemResult:
    """One graded cell: an autograded test or a manually graded written answer."""

    grade_id: str
    kind: str  # "autograded" or "manual"
    max_points: float
    points: float | None  # None: waits for manual grading
    messages: list[str] = field(default_factory=list)
    mistakes: list[str] = field(default_factory=list)
    # For the instructor only: what hidden cases failed on (their labels, expected values).
    details: list[str] = field(default_factory=list)

    @property
    def needs_manual_grade(self) -> bool:
        return self.points is None


@dataclass(frozen=True)
class Foreign:
    """How a notebook of another nbgrader course is graded (``dlf grade --course``).

    Its sandbox holds the bare check library and no view of this course's; every test cell
    is a plain nbgrader test (a ``check`` call there is the course's own function, not
    ours); ``files`` are the assignment's own files nbgrader copies beside the notebook
    (``(name in the working folder, path)``); ``ignore_stderr`` is the course's
    ``IgnorePattern.pattern`` when it enables that preprocessor.
    """

    files: tuple[tuple[str, str], ...] = ()
    ignore_stderr: str | None = None


@dataclass
class NotebookResult:
    assignment: str
    student: str
    items: list[ItemResult]
    problems: list[str] = field(default_factory=list)
    notebook: NotebookNode | None = None
    seconds: float = 0.0
    isolation: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # for the instructor: what looked like cheating
    name: str = ""  # the notebook's name in the gradebook; "" for the one named after the assignment

    def __post_init__(self) -> None:
        self.name = self.name or self.assignment

    @property
    def score(self) -> float:
        return sum(i.points or 0.0 for i in self.items)

    @property
    def max_score(self) -> float:
        return sum(i.max_points for i in self.items)

    def item(self, grade_id: str) -> ItemResult:
        return next(i for i in self.items if i.grade_id == grade_id)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the executed notebook, as plain JSON-able data."""
        return {
            "assignment": self.assignment, "notebook": self.name, "student": self.student,
            "score": self.score, "max_score": self.max_score,
            "problems": self.problems, "seconds": round(self.seconds, 3),
            "isolation": self.isolation, "flags": self.flags,
            "items": [asdict(i) for i in self.items],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NotebookResult:
        items = [ItemResult(**i) for i in data["items"]]
        return cls(data["assignment"], data["student"], items, list(data["problems"]), None,
                   float(data.get("seconds", 0.0)), list(data.get("isolation", [])),
                   list(data.get("flags", [])), str(data.get("notebook") or ""))


def grade_notebook(source: Path, submission: Path, *, student: str = "student",
                   limits: Limits | None = None, skip: Sequence[str] = (),
                   assignment: str | None = None, name: str | None = None,
                   foreign: Foreign | None = None) -> NotebookResult:
    """Run ``submission`` with the tests of ``source`` and score it from the observed values.

    ``assignment`` defaults to the source's folder and ``name`` (the notebook's, in the
    gradebook) to the assignment; ``foreign`` grades a notebook of another nbgrader
    course; ``skip`` leaves sandbox steps out (for tests of each protection).
    """
    assignment = assignment or source.parent.name
    name = name or assignment
    limits = limits or Limits()
    try:
        handed_in = open_submission(submission, max_files=limits.max_files,
                                    max_bytes=limits.max_files_bytes)
    except SubmissionRefused as exc:
        return refused_result(source, exc, student=student, assignment=assignment, name=name)
    return grade_handed_in(source, handed_in, student=student, limits=limits, skip=skip,
                           assignment=assignment, name=name, foreign=foreign)


def refused_result(source: Path, exc: SubmissionRefused, *, student: str,
                   assignment: str | None = None, name: str | None = None) -> NotebookResult:
    """The result of a submission that could not be opened (a linked notebook, say)."""
    assignment = assignment or source.parent.name
    problem = f"{exc}; every autograded item scores 0"
    return NotebookResult(assignment, student, _empty_items(_read_source(source), problem),
                          [problem], flags=[str(exc)], name=name or assignment)


def grade_handed_in(source: Path, handed_in: SubmissionFiles, *, student: str = "student",
                    limits: Limits | None = None, skip: Sequence[str] = (),
                    assignment: str | None = None, name: str | None = None,
                    foreign: Foreign | None = None) -> NotebookResult:
    """Grade a submission already read: its notebook's bytes and the files handed in beside it
    (``handed_in`` is closed here). ``dlf grade`` opens them from the workspace; a Dask worker
    from the bytes the client sent (``autograder.cluster``)."""
    src = _read_source(source)
    assignment = assignment or source.parent.name
    name = name or assignment
    limits = limits or Limits()
    try:
        sub = nbformat.reads(handed_in.notebook.decode("utf-8"), as_version=4)
    except Exception as exc:
        handed_in.close()
        problem = (f"the notebook could not be read ({type(exc).__name__}: {str(exc)[:300]}); "
                   "every autograded item scores 0")
        return NotebookResult(assignment, student, _empty_items(src, problem), [problem], name=name)
    to_run = assemble(src, sub)
    calls = {i: [] if foreign else check_calls(c.source) for i, c in enumerate(to_run.cells) if is_test(c)}
    flags = [*handed_in.flags, *static_flags(to_run, src)]
    problems = list(handed_in.problems)
    if foreign is not None:
        problems.extend(open_course_files(foreign.files, handed_in))
    view = keys.bare_view_dir() if foreign else keys.view_dir(assignment)
    run = execute(to_run, view=view, limits=limits, files=handed_in,
                  hidden_blob=b"" if foreign else keys.hidden_inputs_blob(src),
                  keep={i: len(c) for i, c in calls.items()}, preload=_preload(src, foreign),
                  skip=tuple(skip))
    if run.fatal:
        problems.append(run.fatal)
    elif run.oom_kills:  # the notebook went on without them
        problems.append(f"{run.oom_kills} of the notebook's processes were stopped for going over "
                        f"the sandbox's memory cap: {memory_cap_text(limits)}")
    for index, error in sorted(run.errors.items()):
        if error.startswith("CellTimeout"):
            problems.append(f"cell {index + 1}: {error.partition(': ')[2]}")
    missing = [p for p in CORE_PROTECTIONS if p not in run.isolation]
    if missing and run.isolation:
        why = [f"{p} ({run.missing[p]})" if p in run.missing else p for p in missing]
        problems.append(f"the sandbox ran without: {', '.join(why)}")
    if run.tampered:
        problems.append("the result channel was tampered with; every autograded item scores 0")
        flags.append("tampered with the result channel: " + "; ".join(run.violations))
    flags.extend(_runtime_flags(run.flags, to_run, src))
    if run.tmp_bytes >= 0.9 * limits.tmp_bytes:
        flags.append(f"filled its private /tmp ({run.tmp_bytes / 1024**2:.0f} MB of "
                     f"{limits.tmp_bytes / 1024**2:.0f} MB); it was thrown away with the sandbox")
    scorer = _Scorer(run, limits.evaluation_seconds, foreign.ignore_stderr if foreign else None)
    items = [scorer.score(cell, _index_of(to_run, cell), calls) for cell in _graded_cells(src)]
    problems.extend(scorer.problems)
    flags.extend(scorer.flags)
    return NotebookResult(assignment, student, items, problems, run.notebook, run.seconds,
                          run.isolation, list(dict.fromkeys(flags))[:MAX_FLAGS], name)


def not_handed_in(source: Path, *, assignment: str, name: str, student: str) -> NotebookResult:
    """A notebook of the assignment missing from the hand-in: as in nbgrader, every graded
    cell, written answers too, scores 0 and waits for no grader."""
    problem = f"{name}.ipynb was not handed in; every item scores 0"
    items = [ItemResult(nbgrader_meta(c)["grade_id"], "manual" if is_written(c) else "autograded",
                        float(nbgrader_meta(c).get("points", 0)), 0.0, [problem])
             for c in _graded_cells(_read_source(source))]
    return NotebookResult(assignment, student, items, [problem], name=name)


def _read_source(path: Path) -> NotebookNode:
    """The source notebook, read once per process for all the submissions of a class."""
    stat = path.stat()
    return _read_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _read_cached(path: str, mtime_ns: int, size: int) -> NotebookNode:
    return nbformat.read(path, as_version=4)


def _preload(src: NotebookNode, foreign: Foreign | None = None) -> tuple[str, ...]:
    """What the instructor's setup cells import: the zygote imports it once for every sandbox.

    Never a module another course ships beside its notebooks: the copy in the working
    folder must be the one imported, as in Jupyter, not one of the same name installed."""
    shipped = {Path(name).parts[0].removesuffix(".py") for name, _ in foreign.files} if foreign else set()
    names: list[str] = []
    for cell in src.cells:
        if cell.cell_type != "code" or is_answer(cell) or is_test(cell):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                names.extend(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
    return tuple(n for n in dict.fromkeys(names) if n.split(".")[0] not in shipped)


def expected_items(source: Path) -> list[tuple[str, str, float]]:
    """(grade id, kind, points) of each graded cell of ``source``, in order: every result of
    that notebook holds exactly these items."""
    return [(nbgrader_meta(c)["grade_id"], "manual" if is_written(c) else "autograded",
             float(nbgrader_meta(c).get("points", 0))) for c in _graded_cells(_read_source(source))]


def _graded_cells(src: NotebookNode) -> list[NotebookNode]:
    return [c for c in src.cells if is_test(c) or is_written(c)]


def _index_of(notebook: NotebookNode, src_cell: NotebookNode) -> int | None:
    gid = nbgrader_meta(src_cell).get("grade_id")
    return next((i for i, c in enumerate(notebook.cells)
                 if nbgrader_meta(c).get("grade_id") == gid and is_test(c)), None)


def _empty_items(src: NotebookNode, reason: str) -> list[ItemResult]:
    return [ItemResult(nbgrader_meta(c)["grade_id"], "manual" if is_written(c) else "autograded",
                       float(nbgrader_meta(c).get("points", 0)),
                       None if is_written(c) else 0.0, [reason]) for c in _graded_cells(src)]


def _runtime_flags(found: list[Flag], notebook: NotebookNode, src: NotebookNode) -> list[str]:
    """The audit hook's reports, by the cell whose code did it; the instructor's cells are not flagged."""
    ours = instructor_cells(notebook, src)
    out = []
    for flag in found:
        match = _CELL_NAME.match(flag.where)
        if match:
            index = int(match.group(1)) - 1
            if index in ours:
                continue
            out.append(f"cell {index + 1}, line {flag.line}: {flag.what} (at run time)")
        else:
            running = f"while cell {flag.cell + 1} ran, " if flag.cell is not None else ""
            out.append(f"{running}code from {flag.where} line {flag.line}: {flag.what} (at run time)")
    return out


class _Scorer:
    """Scores test cells from their records, within a time budget for the whole notebook."""

    def __init__(self, run: Execution, seconds: float, ignore_stderr: str | None = None) -> None:
        self.run = run
        self.ignore_stderr = ignore_stderr
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.problems: list[str] = []
        self.flags: list[str] = []

    def score(self, src_cell: NotebookNode, index: int | None,
              calls: dict[int, list[CheckCall]]) -> ItemResult:
        meta = nbgrader_meta(src_cell)
        gid, max_points = meta["grade_id"], float(meta.get("points", 0))
        if is_written(src_cell):
            # nbgrader's rule: an answer unchanged from the release (by checksum) scores 0 by itself.
            answer = next((c for c in self.run.notebook.cells
                           if nbgrader_meta(c).get("grade_id") == gid and not is_test(c)), None)
            if is_unchanged(answer, src_cell):
                return ItemResult(gid, "manual", max_points, 0.0, ["no answer written: 0 points"])
            return ItemResult(gid, "manual", max_points, None, ["waits for manual grading"])
        if index is None:  # pragma: no cover - assemble always restores test cells
            return ItemResult(gid, "autograded", max_points, 0.0, ["the test cell is missing"])
        if self.run.tampered:
            return ItemResult(gid, "autograded", max_points, 0.0,
                              ["not scored: the notebook tampered with the result channel"])
        cell = self.run.cells.get(index)
        error = cell.error if cell else self.run.errors.get(index)
        error = self.run.errors.get(index, error)
        expected = calls.get(index, [])
        if not expected:  # a plain nbgrader test cell: nbgrader's partial-credit rule
            plain = score_plain_cell(max_points=max_points, ran=cell is not None and cell.ended,
                                     error=error, stderr=cell.stderr if cell else "",
                                     value=cell.value if cell else None,
                                     ignore_stderr=self.ignore_stderr)
            return ItemResult(gid, "autograded", max_points, plain.points, plain.messages)
        return self._score_checks(gid, max_points, index, cell, error, expected)

    def _score_checks(self, gid: str, max_points: float, index: int, cell: Any, error: str | None,
                      expected: list[CheckCall]) -> ItemResult:
        records = cell.records if cell else []
        wanted = [(c.check_id, c.hidden) for c in expected]
        got = [(r.get("id"), r.get("hidden")) for r in records]
        messages: list[str] = []
        mistakes: list[str] = []
        details: list[str] = []
        if cell is not None and (cell.n_records > len(wanted) or got != wanted[:len(got)]):
            self.flags.append(f"cell {index + 1}: the test cell wrote {cell.n_records} check records "
                              f"where the instructor's checks write {len(wanted)}, or in another order")
            return ItemResult(gid, "autograded", max_points, 0.0,
                              ["not scored: this cell's check records do not match its checks"])
        if cell is not None and cell.ended and error is None and len(got) < len(wanted):
            self.flags.append(f"cell {index + 1}: the test cell ran without error but "
                              f"{len(wanted) - len(got)} of its checks wrote no record")
        passed = True
        for position, call in enumerate(expected):
            if position >= len(records):
                passed = False
                messages.append(f"{call.check_id}: the check did not run{self._why(error)}")
                continue
            if time.monotonic() > self.deadline:
                passed = False
                problem = (f"evaluating the checks took longer than {self.seconds:g} s; "
                           "the remaining checks score 0")
                if problem not in self.problems:
                    self.problems.append(problem)
                messages.append(f"{call.check_id}: not evaluated (time limit)")
                continue
            try:
                record = parse_record(records[position])
            except Exception as exc:
                passed = False
                self.flags.append(f"cell {index + 1}: a check record could not be read ({exc})")
                messages.append(f"{call.check_id}: its record could not be read")
                continue
            try:
                verdict = keys.evaluate_record(call.check_id, call.hidden, record["obs"])
            except Exception as exc:  # a forged record must never stop the batch
                passed = False
                self.flags.append(f"cell {index + 1}: a check record could not be judged "
                                  f"({type(exc).__name__})")
                messages.append(f"{call.check_id}: its record could not be judged")
                continue
            messages.append(verdict.report())
            mistakes.extend(verdict.mistakes)
            details.extend(f"{call.check_id}: {d}" for d in verdict.details)
            passed = passed and verdict.passed
        return ItemResult(gid, "autograded", max_points, max_points if passed else 0.0,
                          messages, mistakes, details)

    def _why(self, error: str | None) -> str:
        if error and error.startswith("CheckFailed"):
            return ": an earlier check in this cell failed"
        if error and error.startswith("NameError"):
            return (f" ({_last_line(error)}: write your answer in its cell, replacing "
                    "`raise NotImplementedError()`, and run that cell)")
        if error:
            return f" ({_last_line(error)})"
        return " (the kernel had stopped)" if self.run.fatal else ""


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else text[:300]
