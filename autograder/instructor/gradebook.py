"""Write results into nbgrader's gradebook, so ``nbgrader export`` and formgrader work on them.

Only autograder fields are written (``auto_score``, ``auto_comment``, the manual-grading
flag); a grader's manual scores are never touched, and a cell with a manual score stays
flagged for review, as nbgrader itself does.
"""

from __future__ import annotations

import functools
import tempfile
import warnings
from pathlib import Path

from nbformat import NotebookNode

from autograder.grading import NotebookResult
from autograder.instructor.workspace import Workspace
from autograder.nb import release
from autograder.nb.course import ensure_tools_on_path, fast_gradebook, is_answer, is_test, nbgrader_meta, read


def register_assignments(ws: Workspace, names: list[str]) -> None:
    """Create (or update) the assignments and their grade cells in the gradebook."""
    if not names:
        return
    ws.path.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dlf-register-") as tmp:
        release.generate(root=ws.root, out_dir=Path(tmp), db_url=ws.db_url, names=names)


class GradebookWriter:
    """One open connection to nbgrader's gradebook for a whole grading run."""

    def __init__(self, ws: Workspace) -> None:
        ensure_tools_on_path()
        fast_gradebook()
        from nbgrader.api import Gradebook

        self.ws = ws
        self.gb = Gradebook(ws.db_url)

    def __enter__(self) -> GradebookWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.gb.close()

    def record(self, result: NotebookResult) -> None:
        from nbgrader.api import MissingEntry

        gb = self.gb
        assignment = self.ws.assignment(result.assignment)
        comments = _comments_by_answer_cell(assignment.source, result)
        with warnings.catch_warnings():
            # nbgrader's own add_submission trips SQLAlchemy's autoflush warnings; they are harmless.
            warnings.simplefilter("ignore")
            gb.update_or_create_student(result.student)
            try:
                gb.find_submission(assignment.name, result.student)
            except MissingEntry:
                gb.add_submission(assignment.name, result.student)
            for item in result.items:
                grade = gb.find_grade(item.grade_id, assignment.name, assignment.name, result.student)
                grade.auto_score = item.points
                grade.needs_manual_grade = grade.manual_score is not None or item.points is None
            for grade_id, text in comments.items():
                comment = gb.find_comment(grade_id, assignment.name, assignment.name, result.student)
                comment.auto_comment = text
            gb.db.commit()


def _comments_by_answer_cell(source: Path, result: NotebookResult) -> dict[str, str | None]:
    """Each answer cell gets the messages of the tests that follow it, until the next answer."""
    owner: dict[str, str] = {}
    current: str | None = None
    answers: list[str] = []
    for cell in _source_cells(source):
        meta = nbgrader_meta(cell)
        if is_answer(cell) or (meta.get("solution") and meta.get("grade")):
            current = meta["grade_id"]
            answers.append(current)
        elif is_test(cell) and current is not None:
            owner[meta["grade_id"]] = current
    text: dict[str, list[str]] = {a: [] for a in answers}
    for item in result.items:
        if item.grade_id in owner and item.points is not None and item.points < item.max_points:
            text[owner[item.grade_id]].extend(item.messages)
    return {a: ("\n".join(msgs)[:4000] or None) for a, msgs in text.items()}


@functools.lru_cache(maxsize=16)
def _source_cells(source: Path) -> list[NotebookNode]:
    return list(read(source).cells)
