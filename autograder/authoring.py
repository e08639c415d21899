"""Build nbgrader source notebooks from Python: the cell kinds of course/AUTHORING.md.

Used while writing a notebook (a short script of ``md``/``code``/``solution``/``tests``
calls); the ``.ipynb`` it writes is the source of truth from then on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

_SCHEMA = 3


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool,
          points: float | None = None, task: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade": grade, "grade_id": grade_id, "locked": locked,
        "schema_version": _SCHEMA, "solution": solution, "task": task,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def md(text: str, *, grade_id: str | None = None) -> NotebookNode:
    """Explanation. With a grade id it is locked, so students cannot edit it."""
    cell = nbformat.v4.new_markdown_cell(text.strip())
    if grade_id:
        cell.metadata.update(_meta(grade_id, grade=False, solution=False, locked=True))
    return cell


def code(source: str, *, grade_id: str | None = None) -> NotebookNode:
    """Ordinary code (imports, plots, experiments); locked when given a grade id."""
    cell = nbformat.v4.new_code_cell(source.strip())
    if grade_id:
        cell.metadata.update(_meta(grade_id, grade=False, solution=False, locked=True))
    return cell


def solution(grade_id: str, source: str) -> NotebookNode:
    """An answer cell: the part between ### BEGIN/END SOLUTION is cut from the release."""
    cell = nbformat.v4.new_code_cell(source.strip())
    cell.metadata.update(_meta(grade_id, grade=False, solution=True, locked=False))
    return cell


def tests(grade_id: str, points: float, source: str) -> NotebookNode:
    """An autograded test cell; ### BEGIN/END HIDDEN TESTS marks what students never see."""
    cell = nbformat.v4.new_code_cell(source.strip())
    cell.metadata.update(_meta(grade_id, grade=True, solution=False, locked=True, points=points))
    return cell


def written(grade_id: str, points: float, answer: str) -> NotebookNode:
    """A manually graded written answer (markdown); the model answer is cut from the release."""
    text = f"### BEGIN SOLUTION\n{answer.strip()}\n### END SOLUTION"
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata.update(_meta(grade_id, grade=True, solution=True, locked=False, points=points))
    return cell


def notebook(cells: list[NotebookNode]) -> NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write(nb: NotebookNode, path: Path) -> None:
    """Write a stripped, validated notebook with stable cell ids (the grade id where there is one)."""
    for i, cell in enumerate(nb.cells):
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell["id"] = (gid or f"cell-{i:03d}").replace("_", "-")[:64]
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
