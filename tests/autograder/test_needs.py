"""``needs``: a demo cell waits, in one line, for the answers it uses, judged without the answer key.

The notebook "99" of test_checks (registered with the grader, its visible data installed)
gives the checks whose verdicts ``needs`` reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import autograder.checks as checks
from autograder.checks import CheckFailed, NotReady, check, needs
from autograder.checks import demos as needs_module
from autograder.checks.selfcheck import Demo, Report
from tests.autograder.test_checks import student  # noqa: F401  (registers notebook 99)


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    needs_module.forget()
    yield
    needs_module.forget()


def _waiting(namespace: dict[str, Any], *names: str) -> list[tuple[str, str]]:
    with pytest.raises(NotReady) as stopped:
        needs(*names, namespace=namespace)
    return stopped.value.waiting


def stub(x: Any) -> Any:
    """What the release gives: a function whose body still raises."""
    raise NotImplementedError()


class StubLayer:
    def forward(self, x: Any) -> Any:
        return x

    def backward(self, dy: Any) -> Any:
        raise NotImplementedError()


def written(x: Any) -> Any:
    return np.asarray(x).mean(axis=0)


def wrong(x: Any) -> Any:
    return np.asarray(x).mean(axis=1)


def test_a_name_not_defined_yet_waits() -> None:
    assert _waiting({}, "model") == [("model", "not defined yet")]


@pytest.mark.parametrize(("value", "why"), [(None, "still None"), (..., "still Ellipsis"),
                                            ("", "still empty")])
def test_a_placeholder_value_waits(value: Any, why: str) -> None:
    assert _waiting({"W1": value}, "W1") == [("W1", why)]


def test_a_function_or_method_that_still_raises_not_implemented_waits() -> None:
    assert _waiting({"f": stub}, "f") == [("f", "not written yet")]
    assert _waiting({"L": StubLayer}, "L") == [("L", "backward not written yet")]


def test_written_answers_and_values_no_check_has_seen_run() -> None:
    needs("f", "w", "n", namespace={"f": written, "w": np.ones(3), "n": 3})


@pytest.mark.usefixtures("student")
def test_an_answer_whose_check_failed_waits_with_the_check_named() -> None:
    with pytest.raises(CheckFailed):
        check("99.mean_rows", wrong)
    assert _waiting({"f": wrong}, "f") == [("f", "its check fails: mean_rows(x)")]


@pytest.mark.usefixtures("student")
def test_an_answer_whose_check_said_not_implemented_waits() -> None:
    def raising(x: Any) -> Any:
        return x.missing_method()  # no NotImplementedError in its code: only the check knows

    def not_yet(x: Any) -> Any:
        raise NotImplementedError()

    with pytest.raises(CheckFailed):
        check("99.mean_rows", not_yet)
    assert _waiting({"f": not_yet}, "f") == [("f", "not written yet")]
    with pytest.raises(CheckFailed):
        check("99.mean_rows", raising)
    assert _waiting({"f": raising}, "f")[0][1].startswith("its check fails")


@pytest.mark.usefixtures("student")
def test_an_answer_whose_check_passed_runs_and_a_rewritten_one_is_judged_afresh() -> None:
    check("99.mean_rows", written)
    needs("f", namespace={"f": written})
    with pytest.raises(CheckFailed):
        check("99.mean_rows", wrong)

    def rewritten(x: Any) -> Any:
        return np.asarray(x).mean(axis=0)

    needs("f", namespace={"f": rewritten})


def test_the_parts_of_a_tuple_answer_are_judged_with_it() -> None:
    W = np.ones((2, 2))
    needs_module.record((W, None), "hand-set weights", "1 of 1 visible cases fail", False)
    assert _waiting({"W1": W, "b1": None}, "W1", "b1") == [
        ("W1", "its check fails: hand-set weights"), ("b1", "still None")]


def test_needs_reads_the_calling_cells_namespace() -> None:
    namespace: dict[str, Any] = {"needs": needs, "unit": stub}
    with pytest.raises(NotReady):
        exec(compile('needs("unit")', "<cell>", "exec"), namespace)


def test_the_message_is_one_line_naming_each_answer_and_why() -> None:
    stopped = NotReady([("sigmoid", "not written yet"), ("tanh", "not written yet"),
                        ("model", "not defined yet")])
    (line,) = stopped._render_traceback_()
    assert "\n" not in line
    assert "`sigmoid` and `tanh` (not written yet) and `model` (not defined yet)" in line
    assert "run this cell again" in line


def test_the_check_library_exports_needs() -> None:
    assert checks.needs is needs and "needs" in checks.__all__


def test_dlf_check_lists_demos_that_wait_for_a_failing_answer_one_per_line() -> None:
    report = Report("99", [], [Demo("plot_a", [("a", "not written yet")]),
                               Demo("plot_b", [("b", "not written yet")]),
                               Demo("plot_c", [("c", "its check fails: c(x)")]),
                               Demo("plot_d", error="raised ValueError: bad")])
    text = report.render()
    assert "⏸ 2 demo(s) wait for exercises not written yet: plot_a, plot_b" in text
    assert "⏸ demo plot_c waits for exercise c (its check fails: c(x))" in text
    assert "✗ demo plot_d: raised ValueError: bad" in text
