"""Tests for reference_impl.serialization: named arrays in an .npz, round trips in place, and
refusals that name the entry and change nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reference_impl import mlp
from reference_impl.layers import Linear, PReLU, ReLU, Sequential
from reference_impl.serialization import load_weights, save_weights


def values(model: Any) -> dict[str, np.ndarray]:
    return {name: p.copy() for name, p, _ in model.named_parameters()}


def test_the_archive_holds_each_parameter_under_its_name(tmp_path: Path) -> None:
    model = mlp([4, 3, 2], rng=np.random.default_rng(0))
    save_weights(model, tmp_path / "w.npz")
    with np.load(tmp_path / "w.npz") as archive:
        assert sorted(archive.files) == ["0.W", "0.b", "2.W", "2.b"]
        np.testing.assert_array_equal(archive["2.W"], model[2].params["W"])


@pytest.mark.parametrize("sizes", [[4, 3, 2], [5, 2], [3, 8, 8, 8, 2]])
def test_a_round_trip_restores_every_value_into_the_same_arrays(tmp_path: Path, sizes: list[int]) -> None:
    saved = mlp(sizes, rng=np.random.default_rng(0))
    save_weights(saved, tmp_path / "w.npz")
    model = mlp(sizes, rng=np.random.default_rng(1))
    arrays = [p for p, _ in model.parameters()]
    load_weights(model, tmp_path / "w.npz")
    assert all(a is p for a, (p, _) in zip(arrays, model.parameters(), strict=True))
    for name, value in values(saved).items():
        np.testing.assert_array_equal(values(model)[name], value)


def test_nested_containers_and_parametrised_activations_are_saved_too(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    model = Sequential(Sequential(Linear(3, 4, rng=rng), PReLU(4)), Linear(4, 2, rng=rng))
    model[0][1].params["a"][...] = 0.3
    save_weights(model, str(tmp_path / "w.npz"))
    copy = Sequential(Sequential(Linear(3, 4, rng=rng), PReLU(4)), Linear(4, 2, rng=rng))
    load_weights(copy, str(tmp_path / "w.npz"))
    np.testing.assert_array_equal(copy[0][1].params["a"], np.full(4, 0.3))
    assert set(values(copy)) == {"0.0.W", "0.0.b", "0.1.a", "1.W", "1.b"}


def test_values_take_the_dtype_of_the_model(tmp_path: Path) -> None:
    save_weights(mlp([3, 2], rng=np.random.default_rng(0)), tmp_path / "w.npz")
    model = mlp([3, 2], rng=np.random.default_rng(1), dtype=np.float32)
    load_weights(model, tmp_path / "w.npz")
    assert model[0].params["W"].dtype == np.float32


@pytest.mark.parametrize(("saved_sizes", "model_sizes", "message"), [
    ([4, 3, 2], [4, 5, 2], r"'0.W' is \(4, 3\) in the file but \(4, 5\) in the model"),
    ([4, 3, 6, 2], [4, 3, 5, 2], r"'2.W' is \(3, 6\) in the file"),
    ([4, 3, 2], [4, 2], r"unexpected \['2.W', '2.b'\]"),
    ([4, 2], [4, 3, 2], r"missing \['2.W', '2.b'\]"),
])
def test_another_architecture_is_refused_and_the_model_left_unchanged(
        tmp_path: Path, saved_sizes: list[int], model_sizes: list[int], message: str) -> None:
    save_weights(mlp(saved_sizes, rng=np.random.default_rng(0)), tmp_path / "w.npz")
    model = mlp(model_sizes, rng=np.random.default_rng(1))
    before = values(model)
    with pytest.raises(ValueError, match=message):
        load_weights(model, tmp_path / "w.npz")
    for name, value in values(model).items():
        np.testing.assert_array_equal(value, before[name])


def test_a_path_without_the_npz_suffix_is_refused(tmp_path: Path) -> None:
    model = Sequential(Linear(2, 2, rng=np.random.default_rng(0)), ReLU())
    with pytest.raises(ValueError, match=r"ending in \.npz"):
        save_weights(model, tmp_path / "weights")
    assert not list(tmp_path.iterdir())
