"""The check library on both sides: verdicts that say what is wrong, data that gives nothing away.

A small notebook "99" is registered with the grader (``autograder.specs``) and its visible
data installed for the student's side, exactly as ``dlf release`` would write it. Every
behaviour is tried in the instructor's environment (the grader's side installed: full
verdicts) and, where it differs, on the student's side alone.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import numpy as np
import pytest

import autograder.checks as checks
from autograder.checks import CheckFailed, channel, check, exercises
from autograder.checks.cases import Case
from autograder.checks.channel import parse_record
from autograder.checks.values import decode, encode
from autograder.specs import registry
from autograder.specs.base import ChoiceCheck, FunctionCheck, Mistake, ValueCheck


def _mean_rows(x: np.ndarray) -> np.ndarray:
    return x.mean(axis=0)


def _cases(rng: np.random.Generator) -> list[Case]:
    return [Case((rng.normal(size=(4, 3)),), "a (4, 3) batch", batch=4),
            Case((np.ones((2, 3)),), "ones", batch=2)]


MEAN = FunctionCheck(
    id="99.mean_rows", title="mean_rows(x)", reference=_mean_rows, cases=_cases,
    hidden_cases=lambda rng: [Case((rng.normal(size=(7, 5)) * 1000,), "large values", batch=7)],
    mistakes=(Mistake("mean over the wrong axis", "average over axis 0, the batch",
                      lambda x: x.mean(axis=1)),),
)
COUNT = ValueCheck(id="99.count", title="the count", expected=lambda: 104938, kind="int",
                   mistakes=((104768, "forgotten biases", "each unit has a bias too"),))
ORDER = ChoiceCheck(id="99.order", title="the order", expected="dfbaec", options="abcdef",
                    mistakes=(("dfbeac", "backward before cost", "the cost comes first"),))
TRUE = ChoiceCheck(id="99.true", title="true statements", expected="b", options="abcd", kind="set")
registry.register(MEAN, COUNT, ORDER, TRUE)
DATA = {"format": exercises.FORMAT, "notebook": {"number": "99", "forbidden": ["json.decoder"]},
        "checks": {c.id: c.visible_data() for c in (MEAN, COUNT, ORDER, TRUE)}}
exercises.install("99", json.loads(json.dumps(DATA)))


@pytest.fixture
def student(monkeypatch: pytest.MonkeyPatch) -> None:
    """The student's side alone: no grader installed, no forbidden module loaded."""
    monkeypatch.setattr(checks, "_grader_installed", lambda: False)
    monkeypatch.setattr(exercises, "_installed", {"99": {**DATA, "notebook": {"forbidden": []}}})
    exercises._raw.cache_clear()
    exercises.get.cache_clear()
    yield
    exercises._raw.cache_clear()
    exercises.get.cache_clear()


def test_a_correct_function_passes_visible_and_hidden_cases() -> None:
    check("99.mean_rows", lambda x: np.sum(x, axis=0) / len(x))
    check("99.mean_rows", _mean_rows, hidden=True)


def test_failure_names_the_case_input_expected_and_got() -> None:
    with pytest.raises(CheckFailed) as err:
        check("99.mean_rows", lambda x: x.sum(axis=0))
    text = str(err.value)
    assert "case 1 of 2 (a (4, 3) batch)" in text
    assert "input:" in text and "expected:" in text and "got:" in text
    assert "missing 1/N" in text


def test_a_hidden_failure_shows_no_input_label_or_value() -> None:
    verdict = MEAN.evaluate(checks.roundtrip(checks.observe(
        MEAN.data(), lambda x: x.sum(axis=0), MEAN.hidden_cases_for_student())), hidden=True)
    assert not verdict.passed
    assert "large values" not in verdict.message and "expected" not in verdict.message
    assert "missing 1/N" in verdict.message
    assert any("large values" in d for d in verdict.details), "the instructor still sees it"


def test_a_named_mistake_is_recognised() -> None:
    with pytest.raises(CheckFailed, match="mean over the wrong axis"):
        check("99.mean_rows", lambda x: x.mean(axis=1))


def test_wrong_shape_is_reported_as_shape() -> None:
    with pytest.raises(CheckFailed, match=r"wrong shape: expected \(3,\), got \(1, 3\)"):
        check("99.mean_rows", lambda x: x.mean(axis=0, keepdims=True))


def test_not_implemented_says_so() -> None:
    def stub(x: np.ndarray) -> np.ndarray:
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented yet"):
        check("99.mean_rows", stub)


def test_mutating_the_input_fails() -> None:
    def in_place(x: np.ndarray) -> np.ndarray:
        x -= 0
        x[0, 0] = 7.0
        return np.asarray(x.mean(axis=0))

    with pytest.raises(CheckFailed, match="changed its input in place"):
        check("99.mean_rows", in_place)


class _Liar:
    def __eq__(self, other: object) -> bool:
        return True

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.zeros(3)


def test_an_object_whose_eq_always_says_true_earns_nothing() -> None:
    with pytest.raises(CheckFailed):
        check("99.mean_rows", lambda x: _Liar())
    with pytest.raises(CheckFailed):
        check("99.count", _Liar())
    with pytest.raises(CheckFailed):
        check("99.order", _Liar())


def test_a_str_subclass_with_lying_eq_earns_nothing() -> None:
    class Sneaky(str):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    with pytest.raises(CheckFailed):
        check("99.order", Sneaky("abcdef"))


def test_patching_numpy_after_import_does_not_change_the_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "isclose", lambda *a, **k: np.array(True))
    monkeypatch.setattr(np, "array_equal", lambda *a, **k: True)
    with pytest.raises(CheckFailed):
        check("99.mean_rows", lambda x: x.sum(axis=0))


def test_numeric_answers_accept_equivalent_types_and_never_reveal_the_answer() -> None:
    check("99.count", 104938)
    check("99.count", np.int64(104938))
    check("99.count", 104938.0)
    with pytest.raises(CheckFailed) as err:
        check("99.count", 104939)
    assert "104938" not in str(err.value)
    with pytest.raises(CheckFailed, match="forgotten biases"):
        check("99.count", 104768)
    with pytest.raises(CheckFailed, match="must be a number"):
        check("99.count", "104938")


def test_choice_answers() -> None:
    check("99.order", "d f b a e c")
    check("99.order", "DFBAEC")
    with pytest.raises(CheckFailed, match="backward before cost"):
        check("99.order", "dfbeac")
    with pytest.raises(CheckFailed, match="first 2 step"):
        check("99.order", "dfcaeb")
    with pytest.raises(CheckFailed, match="'z' is not an option"):
        check("99.order", "dfbaez")
    check("99.true", {"b"})
    with pytest.raises(CheckFailed, match="1 statement"):
        check("99.true", "ab")


def test_the_visible_data_holds_no_right_numeric_or_choice_answer_nor_a_known_wrong_one() -> None:
    text = json.dumps(DATA)
    for value in ("104938", "dfbaec", "104768", "dfbeac"):
        assert value not in text, value
    assert set(DATA["checks"]["99.count"]) == {"id", "title", "type", "kind", "tol"}


def test_on_the_students_side_a_function_verdict_is_the_graders(student: None) -> None:
    for answer in (lambda x: x.sum(axis=0), lambda x: x.mean(axis=1), _mean_rows):
        ours = checks.run_check("99.mean_rows", answer)
        graders = MEAN.evaluate(checks.roundtrip(checks.observe(MEAN.data(), answer,
                                                                MEAN.data().cases)))
        assert (ours.passed, ours.message, ours.mistakes) == (
            graders.passed, graders.message, graders.mistakes)


def test_on_the_students_side_numbers_and_choices_are_recorded_not_judged(
        student: None, capsys: pytest.CaptureFixture[str]) -> None:
    # Right, wrong or a known wrong value: the student's side cannot tell them apart, since a
    # known wrong value (the biases forgotten) would give the right one away.
    for answer in (104938, 104939, 104768):
        check("99.count", answer)
        assert "recorded" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="no answer yet"):
        check("99.count", None)
    for order in ("abcdef", "dfbeac"):
        check("99.order", order)
        assert "recorded" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="exactly once"):
        check("99.order", "aabcde")


def test_on_the_students_side_hidden_checks_wait_for_the_grader(
        student: None, capsys: pytest.CaptureFixture[str]) -> None:
    check("99.mean_rows", lambda x: 0, hidden=True)
    assert "run when your notebook is graded" in capsys.readouterr().out


def test_a_check_fails_at_home_while_a_module_the_sandbox_leaves_out_is_loaded(
        student: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exercises, "_installed", {"99": DATA})
    exercises._raw.cache_clear()
    assert "json.decoder" in sys.modules
    with pytest.raises(CheckFailed, match=r"imported json\.decoder.*not available when the "
                                          r"notebook is graded"):
        check("99.mean_rows", _mean_rows)


def test_a_message_is_printed_once(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(CheckFailed) as err:
        check("99.mean_rows", lambda x: x.sum(axis=0))
    assert capsys.readouterr().out == ""
    assert str(err.value).count("missing 1/N") == 1


def test_observations_travel_as_data_and_decide_the_same_verdict(tmp_path: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "records.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    monkeypatch.setattr(channel, "_fd", None)
    channel.connect(fd)
    try:
        with pytest.raises(CheckFailed):
            check("99.mean_rows", lambda x: x.sum(axis=0))
    finally:
        os.close(fd)
        channel._fd = None
    lines = path.read_bytes().splitlines()
    assert len(lines) == 1
    record = parse_record(json.loads(lines[0]))
    verdict = MEAN.evaluate(record["obs"])
    assert not verdict.passed and verdict.mistakes == ("missing 1/N",)


def test_hidden_inputs_travel_without_labels_or_expected_values() -> None:
    from autograder.specs.export import hidden_blob

    blob = json.loads(hidden_blob(["99.mean_rows", "99.count"]))
    assert list(blob["cases"]) == ["99.mean_rows"]
    (case,) = blob["cases"]["99.mean_rows"]
    assert case["label"] == "" and set(case) == {"args", "kwargs", "label", "batch"}


def test_values_refuse_object_arrays_code_and_unknown_records() -> None:
    with pytest.raises(TypeError):
        encode(object())
    with pytest.raises(TypeError):
        encode(np.array([object()]))
    with pytest.raises(ValueError):
        decode({"pickle": "..."})
    with pytest.raises(ValueError, match="only plain values"):
        decode(encode({"a": 1}), plain=True)
    with pytest.raises(ValueError, match="only plain values"):
        decode({"fn": "nb01.sigmoid"}, plain=True)
    value = (np.arange(3.0), 2.5, "x", 3, np.float32(1.5), [1, {"k": None}])
    assert repr(decode(encode(value))) == repr(value)


def test_a_generator_travels_as_its_state() -> None:
    rng = np.random.default_rng(7)
    rng.normal()
    copy = decode(encode(rng))
    assert copy.normal() == rng.normal()


def test_unknown_check_id_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"99\.count"):
        registry.get("99.nope")
    with pytest.raises(KeyError, match=r"99\.count"):
        exercises.get("99.nope")
    with pytest.raises(ValueError, match="looks like"):
        registry.get("nodot")


@pytest.mark.parametrize("forged", [[("ok", 1)], [("ok", None)], [("ok", (1, 2))], [("bad", "x")],
                                    [("ok", np.zeros(3))], [("error", 5)]])
def test_a_forged_record_of_the_wrong_kind_fails_and_never_crashes_the_grader(forged: list) -> None:
    for spec in (MEAN, COUNT, ORDER, TRUE):
        verdict = spec.evaluate(forged * (2 if spec is MEAN else 1))
        assert not verdict.passed, (spec.id, forged)
