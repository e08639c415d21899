"""``dlf export``: the gradebook as CSV, for the instructor and for the LMS.

``exports/grades.csv`` has one row per assignment and student, as ``nbgrader export``
has, and the same totals (``raw_score``, ``late_submission_penalty``, ``score``,
``max_score``), followed by one column per graded cell (its score, manual or automatic;
blank while a written answer waits for a grader) and what the grader noticed. A cell's
column is ``<assignment>:<grade id>``, or ``<assignment>:<notebook>/<grade id>`` for a
notebook not named after its assignment (another course's, ``--course``).
``exports/canvas.csv`` is Canvas's gradebook import format: one row per student, one
column per assignment.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder.instructor.books import Book, Books, read_books
from autograder.instructor.grade_all import load_raw
from autograder.instructor.importing import existing_identity
from autograder.instructor.workspace import SUBMISSION_META, Workspace, item_label

CANVAS_HEAD = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def points(value: float) -> str:
    """Points to the cent, without trailing zeros: 31.5, 30, 2.25."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass
class ExportSummary:
    grades: Path
    canvas: Path
    rows: int
    warnings: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"wrote {self.grades} ({self.rows} rows)", f"wrote {self.canvas} (Canvas gradebook import)"]
        return "\n".join(lines + [f"  note: {w}" for w in self.warnings])


def export_grades(ws: Workspace) -> ExportSummary:
    ws.require()
    books = read_books(ws)
    ws.exports.mkdir(parents=True, exist_ok=True)
    grades = _grades_csv(ws, books, ws.exports / "grades.csv")
    canvas, warnings = _canvas_csv(books, ws.exports / "canvas.csv")
    if not books.books:
        warnings.append(f"the gradebook {ws.gradebook} holds no graded submission yet: run dlf grade")
    return ExportSummary(grades, canvas, len(books.assignments) * len(books.students), warnings)


def _meta(ws: Workspace, student: str, assignment: str) -> dict[str, object]:
    """What ``dlf import`` recorded for this hand-in (late flag, name), or for the student."""
    try:
        data = json.loads((ws.submitted / student / assignment / SUBMISSION_META).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {k: v for k, v in (existing_identity(ws, student) or {}).items() if k != "late"}


def _grades_csv(ws: Workspace, books: Books, path: Path) -> Path:
    raw = load_raw(ws)
    columns: list[tuple[str, str, str]] = []
    for (_, assignment), graded in sorted(books.books.items(), key=lambda kv: kv[0][1]):
        for notebook, gid, _ in graded.items():
            if (assignment, notebook, gid) not in columns:
                columns.append((assignment, notebook, gid))
    columns.sort(key=lambda c: list(books.assignments).index(c[0]) if c[0] in books.assignments else 0)
    header = ["assignment", "student_id", "name", "lms_user_id", "timestamp", "late",
              *[f"{a}:{item_label(a, n, g)}" for a, n, g in columns],
              "raw_score", "late_submission_penalty", "score", "max_score",
              "waits_for_grader", "problems", "flags"]
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for assignment, max_score in books.assignments.items():
            for sid, student in books.students.items():
                book = books.get(sid, assignment)
                meta = _meta(ws, sid, assignment)
                results = [r for (s, a, _), r in raw.items() if (s, a) == (sid, assignment)]
                row = [assignment, sid, student.name if student.name != sid else str(meta.get("name") or ""),
                       student.lms_user_id or "", _when(book), "yes" if meta.get("late") else ""]
                row += [_cell(book, n, g) if a == assignment else "" for a, n, g in columns]
                if book is None:
                    row += ["0", "0", "0", points(max_score), "", "no submission", ""]
                else:
                    row += [points(book.raw_score), points(book.late_penalty), points(book.score),
                            points(book.max_score),
                            ";".join(item_label(assignment, n, g) for n, g in book.waiting),
                            " | ".join(str(p) for r in results for p in r.get("problems", [])),
                            " | ".join(str(f) for r in results for f in r.get("flags", []))]
                writer.writerow(row)
    tmp.replace(path)
    return path


def _when(book: Book | None) -> str:
    return book.timestamp.isoformat(sep=" ") if book is not None and book.timestamp else ""


def _cell(book: Book | None, notebook: str, gid: str) -> str:
    sheet = book.sheets.get(notebook) if book is not None else None
    if sheet is None or gid not in sheet.cells:
        return ""
    cell = sheet.cells[gid]
    return "" if cell.waits_for_grader else points(cell.score)


def _canvas_csv(books: Books, path: Path) -> tuple[Path, list[str]]:
    """Canvas's gradebook CSV: a 'Points Possible' row, then one row per student.

    Canvas matches rows by its user id (column ID). A cell is left empty where a student
    handed nothing in, so Canvas's own missing-submission policy applies.
    """
    names = list(books.assignments)
    warnings = []
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([*CANVAS_HEAD, *names])
        writer.writerow(["    Points Possible", "", "", "", "", *[points(books.assignments[n]) for n in names]])
        for sid, student in books.students.items():
            row = [student.name, student.lms_user_id or "", "", sid, ""]
            for name in names:
                book = books.get(sid, name)
                row.append("" if book is None else points(book.score))
            writer.writerow(row)
    tmp.replace(path)
    missing = [sid for sid, s in books.students.items() if not s.lms_user_id]
    if missing:
        warnings.append(f"{len(missing)} student(s) have no LMS user id ({', '.join(missing[:5])}"
                        f"{', …' if len(missing) > 5 else ''}); Canvas matches them by SIS Login ID, "
                        "which canvas.csv fills with the workspace id")
    return path, warnings
