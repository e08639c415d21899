"""Read the class's scores from nbgrader's gradebook: the one source of truth.

``dlf export``, ``dlf feedback`` and ``dlf report`` read every score from here: automatic
and manual scores, overrides, extra credit, comments, late penalties, submission times.
The sums are nbgrader's own SQL expressions (``Grade.score``, ``SubmittedAssignment.score``),
so the totals are exactly those of ``nbgrader export`` and formgrader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from autograder.instructor.workspace import Workspace
from autograder.nb.course import ensure_tools_on_path, fast_gradebook


@dataclass(frozen=True)
class CellGrade:
    """One graded cell of one submission, as the gradebook holds it."""

    grade_id: str
    max_points: float
    auto: float | None
    manual: float | None
    extra_credit: float | None
    score: float  # nbgrader's rule: manual if set, else automatic, plus extra credit
    needs_manual_grade: bool

    @property
    def waits_for_grader(self) -> bool:
        """A written answer nobody has scored yet (a blank one scores 0 by itself)."""
        return self.needs_manual_grade and self.manual is None


@dataclass
class Sheet:
    """One submitted notebook of a submission: its graded cells and comments, by grade id."""

    name: str
    submitted_notebook_id: str
    score: float = 0.0
    max_score: float = 0.0
    cells: dict[str, CellGrade] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)  # answer cell -> the grader's or dlf's comment
    manual_comments: dict[str, str] = field(default_factory=dict)

    @property
    def waiting(self) -> list[str]:
        return [gid for gid, c in self.cells.items() if c.waits_for_grader]


@dataclass
class Book:
    """One student's submission of one assignment, with a sheet per notebook."""

    student: str
    assignment: str
    timestamp: datetime | None
    raw_score: float
    late_penalty: float
    max_score: float
    sheets: dict[str, Sheet] = field(default_factory=dict)

    @property
    def score(self) -> float:
        """What ``nbgrader export`` calls score: the raw score less the late penalty, at least 0."""
        return max(0.0, self.raw_score - self.late_penalty)

    def items(self) -> list[tuple[str, str, CellGrade]]:
        """Every graded cell: ``(notebook, grade id, grade)``."""
        return [(nb, gid, c) for nb, sheet in self.sheets.items() for gid, c in sheet.cells.items()]

    @property
    def waiting(self) -> list[tuple[str, str]]:
        """``(notebook, grade id)`` of the written answers nobody has scored yet."""
        return [(nb, gid) for nb, gid, c in self.items() if c.waits_for_grader]


@dataclass(frozen=True)
class StudentRecord:
    id: str
    first_name: str | None
    last_name: str | None
    email: str | None
    lms_user_id: str | None

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.id


@dataclass
class Books:
    students: dict[str, StudentRecord] = field(default_factory=dict)
    assignments: dict[str, float] = field(default_factory=dict)  # name -> max score
    books: dict[tuple[str, str], Book] = field(default_factory=dict)  # (student, assignment)

    def get(self, student: str, assignment: str) -> Book | None:
        return self.books.get((student, assignment))

    def sheet(self, student: str, assignment: str, notebook: str) -> Sheet | None:
        book = self.books.get((student, assignment))
        return book.sheets.get(notebook) if book is not None else None


def per_cell(db: Any, model: Any, *columns: Any) -> Any:
    """A query of ``model`` (nbgrader's ``Grade`` or ``Comment``) with each row's student,
    assignment, notebook and grade id before ``columns``."""
    from nbgrader.api import Assignment, BaseCell, Notebook, SubmittedAssignment, SubmittedNotebook

    return (db.query(SubmittedAssignment.student_id, Assignment.name, Notebook.name, BaseCell.name,
                     *columns)
            .select_from(model)
            .join(SubmittedNotebook, model.notebook_id == SubmittedNotebook.id)
            .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
            .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
            .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
            .join(BaseCell, model.cell_id == BaseCell.id))


def read_books(ws: Workspace) -> Books:
    """Everything the gradebook knows about the class, in three queries."""
    out = Books()
    if not ws.gradebook.is_file():
        return out
    ensure_tools_on_path()
    fast_gradebook()
    from nbgrader.api import (
        Assignment,
        Comment,
        Grade,
        Gradebook,
        Notebook,
        Student,
        SubmittedAssignment,
        SubmittedNotebook,
    )

    with Gradebook(ws.db_url) as gb:
        db = gb.db
        for s in db.query(Student).order_by(Student.id):
            out.students[s.id] = StudentRecord(s.id, s.first_name, s.last_name, s.email, s.lms_user_id)
        for a in db.query(Assignment).order_by(Assignment.duedate, Assignment.name):
            out.assignments[a.name] = float(a.max_score)
        # nbgrader's sums are correlated subqueries: a query of the assignment's must not join
        # its notebooks, or each row sums one notebook only.
        rows = (db.query(SubmittedAssignment.student_id, Assignment.name, SubmittedAssignment.timestamp,
                         SubmittedAssignment.score, SubmittedAssignment.late_submission_penalty,
                         SubmittedAssignment.max_score)
                .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id))
        for student, assignment, when, score, penalty, max_score in rows:
            out.books[(student, assignment)] = Book(student, assignment, when, float(score or 0.0),
                                                    float(penalty or 0.0), float(max_score or 0.0))
        sheets = (db.query(SubmittedAssignment.student_id, Assignment.name, Notebook.name, SubmittedNotebook.id,
                           SubmittedNotebook.score, SubmittedNotebook.max_score)
                  .select_from(SubmittedNotebook)
                  .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
                  .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                  .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                  .order_by(Notebook.name))
        for student, assignment, notebook, nb_id, nb_score, nb_max in sheets:
            book = out.books.get((student, assignment))
            if book is not None:
                book.sheets[notebook] = Sheet(notebook, nb_id, float(nb_score or 0.0), float(nb_max or 0.0))
        grades = per_cell(db, Grade, Grade.auto_score, Grade.manual_score, Grade.extra_credit,
                          Grade.score, Grade.max_score, Grade.needs_manual_grade)
        for student, assignment, notebook, gid, auto, manual, extra, score, max_score, needs in grades:
            sheet = out.sheet(student, assignment, notebook)
            if sheet is not None:
                sheet.cells[gid] = CellGrade(gid, float(max_score or 0.0), auto, manual, extra,
                                             float(score or 0.0), bool(needs))
        comments = per_cell(db, Comment, Comment.auto_comment, Comment.manual_comment)
        for student, assignment, notebook, gid, auto_c, manual_c in comments:
            sheet = out.sheet(student, assignment, notebook)
            if sheet is None:
                continue
            if manual_c:
                sheet.manual_comments[gid] = manual_c
            text = manual_c if manual_c is not None else auto_c
            if text:
                sheet.comments[gid] = text
    for student, _ in out.books:
        out.students.setdefault(student, StudentRecord(student, None, None, None, None))
    return out
