"""Rebuild the notebook to execute: the student's answers, the instructor's tests.

Test cells always come from the source notebook, whatever the submission did to them
(edited, retyped, deleted, duplicated); a deleted test cell is put back after the
student cell that precedes it in the source.
"""

from __future__ import annotations

import copy

from nbformat import NotebookNode

from autograder.nb.course import is_test, nbgrader_meta


def assemble(source: NotebookNode, submission: NotebookNode) -> NotebookNode:
    tests = {nbgrader_meta(c)["grade_id"]: c for c in source.cells if is_test(c)}
    order = [nbgrader_meta(c).get("grade_id") for c in source.cells]
    out = copy.copy(submission)
    cells: list[NotebookNode] = []
    placed: set[str] = set()
    for cell in submission.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if isinstance(gid, str) and gid in tests:
            if gid in placed:
                continue  # a duplicated test cell runs once
            cells.append(copy.copy(tests[gid]))
            placed.add(gid)
        else:
            cells.append(copy.copy(cell))
    for gid, test in tests.items():
        if gid in placed:
            continue
        at = len(cells)
        idx = order.index(gid)
        previous = {g for g in order[:idx] if g}
        for i, cell in enumerate(cells):
            if nbgrader_meta(cell).get("grade_id") in previous:
                at = i + 1
        cells.insert(at, copy.copy(test))
        placed.add(gid)
    for cell in cells:  # shallow copies: replace what changes, never mutate what is shared
        if cell.cell_type == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    out.cells = cells
    return out
