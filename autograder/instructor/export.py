"""``dlf export``: one row per student and assignment, one column per graded item."""

from __future__ import annotations

import csv
from pathlib import Path

from autograder.grading import NotebookResult
from autograder.instructor.workspace import Workspace


def export_csv(ws: Workspace, results: list[NotebookResult], path: Path | None = None) -> Path:
    """Columns: student, assignment, every item's points (blank while it waits for a grader),
    total, max, needs_manual_grading, problems."""
    path = path or ws.exports / "grades.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    items: list[str] = []
    for result in sorted(results, key=lambda r: r.assignment):
        for item in result.items:
            column = f"{result.assignment}:{item.grade_id}"
            if column not in items:
                items.append(column)
    header = ["student", "assignment", *items, "total", "max", "needs_manual_grading", "problems"]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for result in sorted(results, key=lambda r: (r.student, r.assignment)):
            scores = {f"{result.assignment}:{i.grade_id}": i.points for i in result.items}
            row = [result.student, result.assignment]
            row += ["" if scores.get(c) is None else f"{scores[c]:g}" for c in items]
            manual = [i.grade_id for i in result.items if i.needs_manual_grade]
            row += [f"{result.score:g}", f"{result.max_score:g}", ";".join(manual),
                    " | ".join(result.problems)]
            writer.writerow(row)
    return path
