"""The release's stubs: a function still raises NotImplementedError; a cell's top level does not."""

from __future__ import annotations

import nbformat
import pytest

from autograder.nb.course import Assignment, assignments, is_answer, read
from autograder.nb.stubs import ClearSolutions, release_preprocessors

SOURCE = '''\
n_params = None
### BEGIN SOLUTION
n_params = 50890
### END SOLUTION


def unit(x, w, b, g):
    """One unit."""
    ### BEGIN SOLUTION
    return g(x @ w + b)
    ### END SOLUTION'''


def test_the_stub_raises_inside_a_function_and_is_a_comment_at_the_top_level() -> None:
    cell = nbformat.v4.new_code_cell(SOURCE)
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "x", "locked": False,
                                 "schema_version": 3}
    ClearSolutions().preprocess_cell(cell, {"language": "python"}, 0)
    assert cell.source.split("\n")[:3] == ["n_params = None", "# YOUR CODE HERE", ""]
    assert "    # YOUR CODE HERE\n    raise NotImplementedError()" in cell.source
    assert "50890" not in cell.source and "g(x @ w + b)" not in cell.source


def test_generate_assignment_uses_it_in_place_of_nbgraders() -> None:
    from nbgrader.preprocessors import ClearSolutions as Stock

    chain = release_preprocessors()
    assert ClearSolutions in chain and Stock not in chain


@pytest.mark.parametrize("assignment", assignments(), ids=lambda a: a.name)
def test_no_released_answer_cell_raises_at_its_top_level(assignment: Assignment) -> None:
    raising = [c.metadata["nbgrader"]["grade_id"] for c in read(assignment.release).cells
               if is_answer(c) and "\nraise NotImplementedError()" in "\n" + c.source]
    assert not raising, f"answer cells whose first run raises: {raising}"
