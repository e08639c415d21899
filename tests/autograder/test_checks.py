"""The check library: verdicts, messages that say what is wrong, and answers that cannot cheat."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograder.checks import CheckFailed, check, registry
from autograder.checks.channel import Channel, decode, encode, read_records
from autograder.checks.diagnose import Mistake
from autograder.checks.spec import Case, ChoiceCheck, FunctionCheck, ValueCheck


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


def test_observations_travel_as_data_and_decide_the_same_verdict(tmp_path: Any) -> None:
    path = tmp_path / "records.jsonl"
    channel = Channel(str(path))
    obs = MEAN.observe(lambda x: x.sum(axis=0))
    channel.emit(MEAN.id, False, obs)
    records, offset = read_records(str(path))
    assert offset == path.stat().st_size
    assert len(records) == 1
    verdict = MEAN.evaluate(records[0]["obs"])
    assert not verdict.passed and verdict.mistakes == ("missing 1/N",)


def test_channel_refuses_object_arrays_and_unknown_records() -> None:
    with pytest.raises(TypeError):
        encode(object())
    with pytest.raises(ValueError):
        decode({"pickle": "..."})
    value = (np.arange(3.0), 2.5, "x", 3)
    assert repr(decode(encode(value))) == repr(value)


def test_unknown_check_id_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"99\.count"):
        registry.get("99.nope")
    with pytest.raises(ValueError, match="looks like"):
        registry.get("nodot")
