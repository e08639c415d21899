"""nbgrader's rule for a blank answer: the cell is unchanged from the release, by checksum.

nbgrader stores, for every answer cell, the checksum of the cell as released (solution
replaced by its stub) and gives an unchanged grade-and-solution cell 0 points without
asking a grader. The release version is rebuilt here from the source cell with the
course's own ``ClearSolutions`` settings, so the rule never trusts what the student's
notebook says about itself.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

from nbformat import NotebookNode, from_dict

from autograder.nb.course import ROOT, nbgrader_meta


def checksum(cell: NotebookNode) -> str:
    """nbgrader's checksum: source, cell type, flags, grade id and points."""
    from nbgrader.utils import compute_checksum

    return str(compute_checksum(cell))


@functools.lru_cache(maxsize=4)
def _stubs(root: Path) -> tuple[str, str, str, str]:
    from autograder.nb.release import load_config

    config = load_config(root)
    from nbgrader.preprocessors import ClearSolutions

    clear = ClearSolutions(config=config)
    return (clear.code_stub.get("python", ""), clear.text_stub,
            clear.begin_solution_delimeter, clear.end_solution_delimeter)


@functools.lru_cache(maxsize=256)
def _release_checksum(cell_json: str, root: Path) -> str:
    from nbgrader.preprocessors import ClearSolutions

    code_stub, text_stub, begin, end = _stubs(root)
    clear = ClearSolutions(code_stub={"python": code_stub}, text_stub=text_stub,
                           begin_solution_delimeter=begin, end_solution_delimeter=end)
    cell = from_dict(json.loads(cell_json))
    cell, _ = clear.preprocess_cell(cell, {"language": "python"}, 0)
    return checksum(cell)


def release_checksum(source_cell: NotebookNode, root: Path = ROOT) -> str:
    """The checksum of ``source_cell`` as the student received it."""
    return _release_checksum(json.dumps(source_cell, sort_keys=True), root)


def is_unchanged(student_cell: NotebookNode | None, source_cell: NotebookNode, root: Path = ROOT) -> bool:
    """True when the student's cell is the released cell, untouched (a blank answer).

    The student's cell is judged under the source's metadata (points, flags, grade id),
    as nbgrader's ``OverwriteCells`` does before it compares checksums.
    """
    if student_cell is None:
        return True  # a deleted answer cell holds no answer either
    judged = copy.deepcopy(source_cell)
    judged.source = student_cell.get("source", "")
    judged.cell_type = student_cell.get("cell_type", source_cell.cell_type)
    meta = nbgrader_meta(source_cell)
    judged.metadata["nbgrader"] = meta
    return checksum(judged) == release_checksum(source_cell, root)
