"""Write results into nbgrader's gradebook, so ``nbgrader export`` and formgrader work on them.

Only autograder fields are written: ``auto_score``, ``auto_comment`` (what a student may
see: hidden checks are redacted), the needs-manual-grading flag of cells nobody has
graded, and the student's name, LMS id and submission time. A cell a grader has scored
keeps its manual score and its graded state: regrading the same notebook never asks for
it again. Only when the student handed in a different notebook is such a cell flagged
for review (its manual score is still kept).
"""

from __future__ import annotations

import errno
import functools
import sqlite3
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from autograder.grading import NotebookResult
from autograder.instructor.books import per_cell
from autograder.instructor.redact import check_lines
from autograder.instructor.workspace import Submission, Workspace
from autograder.nb import release
from autograder.nb.course import ensure_tools_on_path, fast_gradebook, is_answer, is_test, nbgrader_meta, read


class DiskFull(OSError):
    """The disk that holds the workspace is full; the message says where and what to do."""


def _is_disk_full(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno == errno.ENOSPC:
            return True
        if isinstance(seen, sqlite3.OperationalError) or type(seen).__name__ == "OperationalError":
            if "disk is full" in str(seen) or "disk I/O error" in str(seen):
                return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextmanager
def disk_full_is_clear(where: Path) -> Iterator[None]:
    """Turn every flavour of 'no space left' (OSError, SQLite, nbgrader's advice) into one message."""
    try:
        yield
    except DiskFull:
        raise
    except Exception as exc:
        if _is_disk_full(exc) or "database or disk is full" in str(exc):
            raise DiskFull(errno.ENOSPC, f"the disk holding {where} is full: free some space "
                           "and run the command again (what was saved is kept; nothing is half-written)") from exc
        raise


def register_assignments(ws: Workspace, names: list[str], *,
                         tests_dir: Path | None = None) -> dict[tuple[str, str], Path]:
    """Create (or update) the assignments, their notebooks and grade cells in the gradebook.

    For another course, returns the source notebooks whose tests nbgrader rewrote
    (autotests), with the tests as the gradebook holds them, written under ``tests_dir``.
    """
    if not names:
        return {}
    ws.gradebook.parent.mkdir(parents=True, exist_ok=True)
    with disk_full_is_clear(ws.gradebook), tempfile.TemporaryDirectory(prefix="dlf-register-") as tmp:
        if ws.course is not None:
            return release.register(ws.course, names, db_url=ws.db_url, out_dir=tests_dir or Path(tmp))
        release.generate(root=ws.root, out_dir=Path(tmp), db_url=ws.db_url, names=names,
                         exercises=False)
        return {}


def parse_timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    from nbgrader.utils import parse_utc

    try:
        parsed: datetime = parse_utc(text)
    except (ValueError, TypeError, OverflowError):
        return None
    return parsed


class GradebookWriter:
    """One open connection to nbgrader's gradebook for a whole grading run."""

    def __init__(self, ws: Workspace) -> None:
        ensure_tools_on_path()
        fast_gradebook()
        from nbgrader.api import Gradebook

        self.ws = ws
        with disk_full_is_clear(ws.gradebook):
            self.gb = Gradebook(ws.db_url)

    def __enter__(self) -> GradebookWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.gb.close()

    def recorded(self) -> dict[tuple[str, str, str], dict[str, float | None]]:
        """Every submitted notebook's automatic scores, ``(student, assignment, notebook) ->
        {grade id: auto}``, in one query."""
        from nbgrader.api import Grade

        rows = per_cell(self.gb.db, Grade, Grade.auto_score)
        out: dict[tuple[str, str, str], dict[str, float | None]] = {}
        for student, assignment, notebook, gid, auto in rows:
            out.setdefault((student, assignment, notebook), {})[gid] = auto
        return out

    @staticmethod
    def matches(result: NotebookResult,
                recorded: dict[tuple[str, str, str], dict[str, float | None]]) -> bool:
        """True when the gradebook already holds this result's automatic scores."""
        scores = recorded.get((result.student, result.assignment, result.name))
        return scores is not None and all(
            i.grade_id in scores and scores[i.grade_id] == i.points for i in result.items)

    def record(self, result: NotebookResult, sub: Submission | None = None, *,
               content_changed: bool = False) -> None:
        """Write one result in one transaction: all of it lands, or none of it."""
        self.record_many([(result, sub, content_changed)])

    def record_many(self, batch: Sequence[tuple[NotebookResult, Submission | None, bool]]) -> None:
        """Write several results, each ``(result, submission, content changed)``, in one
        transaction: all of them land, or none."""
        gb = self.gb
        with disk_full_is_clear(self.ws.gradebook), warnings.catch_warnings():
            # nbgrader's own add_submission trips SQLAlchemy's autoflush warnings; they are harmless.
            warnings.simplefilter("ignore")
            try:
                for result, sub, content_changed in batch:
                    self._write(result, sub, content_changed)
                gb.db.commit()
            except BaseException:
                gb.db.rollback()
                raise

    def _write(self, result: NotebookResult, sub: Submission | None, content_changed: bool) -> None:
        from nbgrader.api import MissingEntry

        gb = self.gb
        assignment = self.ws.assignment(result.assignment)
        notebook = result.name
        comments = _comments_by_answer_cell(assignment.source_of(notebook), result)
        meta = sub.meta if sub is not None else {}
        student: dict[str, str] = {}
        if meta.get("name") and meta.get("name") != result.student:
            student["last_name"] = str(meta["name"])
        if meta.get("lms_user_id"):
            student["lms_user_id"] = str(meta["lms_user_id"])
        gb.update_or_create_student(result.student, **student)
        try:
            submission = gb.find_submission(assignment.name, result.student)
        except MissingEntry:
            submission = gb.add_submission(assignment.name, result.student)
        when = parse_timestamp(sub.timestamp if sub is not None else None)
        if when is not None:
            submission.timestamp = when
        grades, comments_of = self._rows(assignment.name, notebook, result.student)
        for item in result.items:
            grade = _one(grades, item.grade_id, "grade")
            grade.auto_score = item.points
            if grade.manual_score is None:
                grade.needs_manual_grade = item.points is None
            elif content_changed:
                grade.needs_manual_grade = True  # a new answer under an old manual score
        for grade_id, text in comments.items():
            _one(comments_of, grade_id, "comment").auto_comment = text

    def _rows(self, assignment: str, notebook: str,
              student: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The submitted notebook's grades and comments by cell name: two queries, where
        nbgrader's ``find_grade`` and ``find_comment`` make one per cell."""
        from nbgrader.api import (
            Assignment,
            Comment,
            Grade,
            GradeCell,
            Notebook,
            SolutionCell,
            SubmittedAssignment,
            SubmittedNotebook,
        )

        out: list[dict[str, Any]] = []
        for row, cell in ((Grade, GradeCell), (Comment, SolutionCell)):
            query = (self.gb.db.query(cell.name, row)
                     .join(cell, cell.id == row.cell_id)
                     .join(SubmittedNotebook, SubmittedNotebook.id == row.notebook_id)
                     .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
                     .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
                     .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
                     .filter(Notebook.name == notebook, Assignment.name == assignment,
                             SubmittedAssignment.student_id == student))
            out.append(dict(query.all()))
        return out[0], out[1]


def _one(rows: dict[str, Any], name: str, what: str) -> Any:
    from nbgrader.api import MissingEntry

    if name not in rows:
        raise MissingEntry(f"no {what} for cell {name!r} in the gradebook")
    return rows[name]


def _comments_by_answer_cell(source: Path, result: NotebookResult) -> dict[str, str | None]:
    """Each answer cell gets what the student may see of the tests that follow it."""
    owner: dict[str, str] = {}
    tests: dict[str, NotebookNode] = {}
    current: str | None = None
    answers: list[str] = []
    for cell in _source_cells(source):
        meta = nbgrader_meta(cell)
        if is_answer(cell) or (meta.get("solution") and meta.get("grade")):
            current = meta["grade_id"]
            answers.append(current)
        elif is_test(cell) and current is not None:
            owner[meta["grade_id"]] = current
            tests[meta["grade_id"]] = cell
    text: dict[str, list[str]] = {a: [] for a in answers}
    for item in result.items:
        if item.grade_id in owner and item.points is not None and item.points < item.max_points:
            text[owner[item.grade_id]].extend(
                line.text for line in check_lines(tests[item.grade_id], item) if line.ok is not True)
    return {a: ("\n".join(msgs)[:4000] or None) for a, msgs in text.items()}


@functools.lru_cache(maxsize=16)
def _source_cells(source: Path) -> list[NotebookNode]:
    return list(read(source).cells)
