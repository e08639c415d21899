"""Read the class's scores from nbgrader's gradebook: the one source of truth.

``dlf export``, ``dlf feedback`` and ``dlf report`` read every score from here: automatic
and manual scores, overrides, extra credit, comments, late penalties, submission times.
The sums are nbgrader's own SQL expressions (``Grade.score``, ``SubmittedAssignment.score``),
so the totals are exactly those of ``nbgrader export`` and formgrader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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
class Book:
    """One student's submission of one assignment."""

    student: str
    assignment: str
    timestamp: datetime | None
    raw_score: float
    late_penalty: float
    max_score: float
    submitted_notebook_id: str
    cells: dict[str, CellGrade] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)  # answer cell -> the grader's or dlf's comment
    manual_comments: dict[str, str] = field(default_factory=dict)

    @property
    def score(self) -> float:
        """What ``nbgrader export`` calls score: the raw score less the late penalty, at least 0."""
        return max(0.0, self.raw_score - self.late_penalty)

    @property
    def waiting(self) -> list[str]:
        return [gid for gid, c in self.cells.items() if c.waits_for_grader]


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


def read_books(ws: Workspace) -> Books:
    """Everything the gradebook knows about the class, in three queries."""
    out = Books()
    if not ws.gradebook.is_file():
        return out
    ensure_tools_on_path()
    fast_gradebook()
    from nbgrader.api import (
        Assignment,
        BaseCell,
        Comment,
        Grade,
        Gradebook,
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
        rows = (db.query(SubmittedAssignment.student_id, Assignment.name, SubmittedAssignment.timestamp,
                         SubmittedAssignment.score, SubmittedAssignment.late_submission_penalty,
                         SubmittedAssignment.max_score, SubmittedNotebook.id)
                .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                .join(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id))
        for student, assignment, when, score, penalty, max_score, nb_id in rows:
            key = (student, assignment)
            if key in out.books:  # several notebooks: one book per assignment, nbgrader's sums
                continue
            out.books[key] = Book(student, assignment, when, float(score or 0.0), float(penalty or 0.0),
                                  float(max_score or 0.0), nb_id)
        grades = (db.query(SubmittedAssignment.student_id, Assignment.name, BaseCell.name, Grade.auto_score,
                           Grade.manual_score, Grade.extra_credit, Grade.score, Grade.max_score,
                           Grade.needs_manual_grade)
                  .select_from(Grade)
                  .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
                  .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                  .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                  .join(BaseCell, Grade.cell_id == BaseCell.id))
        for student, assignment, gid, auto, manual, extra, score, max_score, needs in grades:
            book = out.books.get((student, assignment))
            if book is not None:
                book.cells[gid] = CellGrade(gid, float(max_score or 0.0), auto, manual, extra,
                                            float(score or 0.0), bool(needs))
        comments = (db.query(SubmittedAssignment.student_id, Assignment.name, BaseCell.name,
                             Comment.auto_comment, Comment.manual_comment)
                    .select_from(Comment)
                    .join(SubmittedNotebook, Comment.notebook_id == SubmittedNotebook.id)
                    .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                    .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                    .join(BaseCell, Comment.cell_id == BaseCell.id))
        for student, assignment, gid, auto_c, manual_c in comments:
            book = out.books.get((student, assignment))
            if book is None:
                continue
            if manual_c:
                book.manual_comments[gid] = manual_c
            text = manual_c if manual_c is not None else auto_c
            if text:
                book.comments[gid] = text
    for student, _ in out.books:
        out.students.setdefault(student, StudentRecord(student, None, None, None, None))
    return out
