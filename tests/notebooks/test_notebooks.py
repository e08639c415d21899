"""Every notebook: the solution earns full marks, the blank release zero, and nbgrader agrees."""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import determine_grade

from autograder.specs import registry
from autograder.specs.base import FunctionCheck
from autograder.nb.course import Assignment, check_calls, is_answer, is_test, is_written, nbgrader_meta, read
from autograder.nb.release import stale
from tests.notebooks.conftest import graded

pytestmark = pytest.mark.notebooks


def test_there_are_notebooks() -> None:
    from tests.notebooks.conftest import ASSIGNMENTS

    assert ASSIGNMENTS, "solutions/ holds no notebook"


def test_solution_executes_and_earns_full_marks(assignment: Assignment) -> None:
    result = graded(assignment, "solution")
    assert not result.problems, result.problems
    lost = {i.grade_id: i.messages for i in result.items
            if i.points is not None and i.points < i.max_points}
    assert not lost, f"the solution loses points: {lost}"
    assert result.max_score > 0


def test_solution_notebook_cells_raise_nothing(assignment: Assignment) -> None:
    nb = graded(assignment, "solution").notebook
    assert nb is not None
    errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(nb.cells)
              if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, f"cells raised: {errors}"


def test_blank_release_scores_zero_on_every_graded_cell(assignment: Assignment) -> None:
    result = graded(assignment, "release")
    scored = {i.grade_id: i.points for i in result.items if i.points}
    assert not scored, f"the untouched release earns points on {scored}"
    assert any(i.kind == "autograded" for i in result.items)


@pytest.mark.parametrize("which", ["solution", "release"])
def test_stock_nbgrader_scoring_agrees_with_the_course_grader(
        assignment: Assignment, which: str) -> None:
    result = graded(assignment, which)
    nb = result.notebook
    assert nb is not None
    for cell in nb.cells:
        if not is_test(cell):
            continue
        stock, _ = determine_grade(cell, None)
        ours = result.item(nbgrader_meta(cell)["grade_id"]).points
        assert stock == ours, f"{nbgrader_meta(cell)['grade_id']}: nbgrader {stock}, dlf {ours}"


def test_nbgrader_validate_is_clean_on_the_solution(assignment: Assignment) -> None:
    from nbgrader.preprocessors import CheckCellMetadata
    from nbgrader.validator import Validator

    class AlreadyExecuted(Validator):  # type: ignore[misc]
        """nbgrader's validate, reading the outputs of this session's single execution."""

        def _preprocess(self, nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
            nb, _ = CheckCellMetadata(parent=self).preprocess(nb, {})
            return nb

    executed = graded(assignment, "solution").notebook
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{assignment.name}.ipynb"
        nbformat.write(executed, str(path))
        assert AlreadyExecuted().validate(str(path)) == {}


def test_notebook_structure_follows_the_authoring_conventions(assignment: Assignment) -> None:
    nb = read(assignment.source)
    ids = [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("grade_id")]
    assert len(ids) == len(set(ids)), "grade ids must be unique"
    assert nb.cells[0].cell_type == "markdown" and "learn" in nb.cells[0].source.lower()
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert "from autograder.checks import check" in first_code.source
    assert sum(1 for c in nb.cells if is_written(c)) >= 2, "a few manually graded questions"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, "outputs must be stripped"
        if is_answer(cell):
            assert "### BEGIN SOLUTION" in cell.source, nbgrader_meta(cell)["grade_id"]
        if is_test(cell):
            calls = check_calls(cell.source)
            assert calls, f"{nbgrader_meta(cell)['grade_id']} calls no check"
            functions = [c for c in calls if isinstance(registry.get(c.check_id), FunctionCheck)]
            if functions:  # functions are also checked on hidden inputs
                assert any(c.hidden for c in calls), f"{nbgrader_meta(cell)['grade_id']} has no hidden part"


def test_committed_release_is_what_dlf_release_generates() -> None:
    assert stale() == [], "run `dlf release` and commit notebooks/"
