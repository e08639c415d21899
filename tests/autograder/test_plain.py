"""A plain nbgrader test cell scores what ``nbgrader.utils.determine_grade`` gives it.

The oracle is nbgrader itself: each case is a code test cell with the outputs a Jupyter
kernel would give it, scored by nbgrader's ``determine_grade`` and by
``autograder.grading.plain``. The two values nbgrader stops on instead of scoring are
pinned separately.
"""

from __future__ import annotations

import math

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nbgrader.utils import determine_grade

from autograder.grading.plain import partial_credit, score_plain_cell

TEXTS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=False).map(repr),
    st.integers(-5, 20).map(str),
    st.sampled_from(["'a string'", "np.float64(0.5)", "nan", "-0.0", " 0.25\n", "1_0", "1e-1", "True",
                     "False", "[0.5]", "None", "array([0.5])", "0.5 points", "½"]),
)


def cell(*, points: float, error: bool, stderr: str, value: str | None) -> nbformat.NotebookNode:
    """A test cell as a kernel leaves it: stderr first, then the value or the error."""
    outputs = []
    if stderr:
        outputs.append(nbformat.v4.new_output("stream", name="stderr", text=stderr))
    if error:
        outputs.append(nbformat.v4.new_output("error", ename="AssertionError", evalue="", traceback=[]))
    elif value is not None:
        outputs.append(nbformat.v4.new_output("execute_result", data={"text/plain": value},
                                              execution_count=1))
    test = nbformat.v4.new_code_cell("...", outputs=outputs)
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "points": points, "grade_id": "t"}
    return test


def ours(*, points: float, error: bool, stderr: str, value: str | None) -> float:
    return score_plain_cell(max_points=points, ran=True, error="AssertionError: " if error else None,
                            stderr=stderr, value=value).points


@given(points=st.sampled_from([0.5, 1.0, 2.0, 3.0, 10.0]), error=st.booleans(),
       stderr=st.sampled_from(["", "a warning\n", "\n"]), value=st.none() | TEXTS)
def test_plain_cells_score_what_nbgrader_gives_them(points: float, error: bool, stderr: str,
                                                    value: str | None) -> None:
    kwargs = {"points": points, "error": error, "stderr": stderr, "value": value}
    try:
        expected, _ = determine_grade(cell(**kwargs), None)
    except (ValueError, KeyError):
        return  # nbgrader stops on these values: pinned below
    got = ours(**kwargs)
    assert got == expected or (math.isnan(expected) and math.isnan(got)), (kwargs, expected, got)


def test_a_displayed_number_is_partial_credit_and_printing_one_is_not() -> None:
    assert ours(points=2.0, error=False, stderr="", value="0.5") == 0.5
    assert ours(points=2.0, error=False, stderr="", value=None) == 2.0  # print(0.5): stdout only
    assert ours(points=2.0, error=False, stderr="careful\n", value="2") == 0.0


@pytest.mark.parametrize(("value", "nbgrader_raises"), [("3.5", ValueError), ("inf", ValueError),
                                                       ("", KeyError)])
def test_values_nbgrader_stops_on_score_the_cells_points(value: str, nbgrader_raises: type) -> None:
    with pytest.raises(nbgrader_raises):
        determine_grade(cell(points=2.0, error=False, stderr="", value=value), None)
    assert ours(points=2.0, error=False, stderr="", value=value) == 2.0
    assert partial_credit("3.5", 2.0) == 2.0


def test_a_course_s_ignore_pattern_drops_the_stderr_it_matches() -> None:
    noisy = {"max_points": 1.0, "ran": True, "error": None, "stderr": "DeprecationWarning: x\n",
             "value": None}
    assert score_plain_cell(**noisy).points == 0.0  # type: ignore[arg-type]
    assert score_plain_cell(**noisy, ignore_stderr="DeprecationWarning").points == 1.0  # type: ignore[arg-type]


def test_a_cell_that_did_not_run_or_raised_scores_zero_with_its_reason() -> None:
    assert score_plain_cell(max_points=1.0, ran=False, error=None, stderr="", value=None).messages == [
        "the cell did not run"]
    raised = score_plain_cell(max_points=1.0, ran=True, error="NameError: name 'a' is not defined",
                              stderr="", value=None)
    assert raised.points == 0.0 and "NameError" in raised.messages[0]
