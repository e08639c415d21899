"""Tests for reference_impl.layers.container: Sequential, mlp and count_parameters,
including an end-to-end gradient check of a small MLP trained with softmax cross-entropy."""

from __future__ import annotations

from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from hypothesis import given
from hypothesis import strategies as st

import reference_impl
from reference_impl import initializers
from reference_impl.gradcheck import check_module
from reference_impl.layers import (
    Dropout,
    Linear,
    PReLU,
    ReLU,
    Sequential,
    SoftmaxCrossEntropy,
    Tanh,
    count_parameters,
    mlp,
)
from reference_impl.layers.base import Module
from tests.reference_impl._layers_support import assert_checked, assert_matches_oracle, gradient_checks
from tests.strategies import seeds

widths = st.lists(st.integers(1, 12), min_size=2, max_size=5)


# count_parameters


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ([784, 128, 32, 10], 104_938),
        ([784, 64, 10], 50_890),
        ([4096, 32, 3], 131_203),
        ([4096, 3], 12_291),
    ],
)
def test_count_parameters_gives_the_course_figures(sizes: list[int], expected: int) -> None:
    assert count_parameters(sizes) == expected
    assert reference_impl.count_parameters(sizes) == expected


def test_count_parameters_changes_as_the_course_quiz_says() -> None:
    # Hidden 32 -> 64 adds weights on both sides and 32 hidden biases.
    assert count_parameters([4096, 64, 3]) - count_parameters([4096, 32, 3]) == 32 * (4096 + 3) + 32
    # Outputs 3 -> 1000 adds 997 weights per hidden unit and 997 output biases.
    assert count_parameters([4096, 32, 1000]) - count_parameters([4096, 32, 3]) == 997 * 33


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ([784], "at least 2 entries"),
        ([], "at least 2 entries"),
        ([784, 0, 10], r"layer_sizes\[1\] = 0 is not a positive int"),
        ([784, -5], r"layer_sizes\[1\] = -5"),
        ([784, 2.5, 10], r"layer_sizes\[1\] = 2.5"),
        ([True, 10], r"layer_sizes\[0\] = True"),
        ("784", "sequence of widths"),
        (784, "sequence of widths"),
    ],
)
def test_count_parameters_rejects_bad_sizes_naming_the_entry(sizes: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        count_parameters(sizes)


# mlp


@given(sizes=widths, seed=seeds)
def test_mlp_parameter_count_agrees_with_count_parameters(sizes: list[int], seed: int) -> None:
    model = mlp(sizes, rng=np.random.default_rng(seed))
    assert model.n_parameters == count_parameters(sizes)
    assert sum(p.size for p, _ in model.parameters()) == count_parameters(sizes)


def test_mlp_alternates_linear_and_activation_and_ends_with_logits() -> None:
    model = mlp([784, 128, 32, 10], rng=np.random.default_rng(0), dropout=0.5)
    kinds = [type(m) for m in model]
    assert kinds == [Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear]
    assert model.n_parameters == 104_938
    assert [name for name, _, _ in model.named_parameters()] == [
        "0.W", "0.b", "3.W", "3.b", "6.W", "6.b"
    ]  # fmt: skip


def test_mlp_defaults_to_kaiming_for_relu_and_glorot_otherwise() -> None:
    relu_net = mlp([6, 4, 2], rng=np.random.default_rng(5))
    tanh_net = mlp([6, 4, 2], rng=np.random.default_rng(5), activation="tanh")
    kaiming = initializers.kaiming_normal((6, 4), rng=np.random.default_rng(5))
    glorot = initializers.glorot_uniform((6, 4), rng=np.random.default_rng(5))
    np.testing.assert_array_equal(relu_net[0].params["W"], kaiming)
    np.testing.assert_array_equal(tanh_net[0].params["W"], glorot)
    assert isinstance(tanh_net[1], Tanh)


def test_mlp_with_prelu_adds_one_slope_per_hidden_unit() -> None:
    model = mlp([5, 4, 3, 2], rng=np.random.default_rng(0), activation="prelu")
    assert isinstance(model[1], PReLU)
    assert model.n_parameters == count_parameters([5, 4, 3, 2]) + 4 + 3


def test_mlp_builds_float32_parameters_on_request() -> None:
    model = mlp([3, 4, 2], rng=np.random.default_rng(0), dtype=np.float32)
    assert all(p.dtype == np.float32 for p, _ in model.parameters())
    assert model.forward(np.ones((2, 3), np.float32)).dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"activation": "maxout"}, ValueError, "does not build maxout"),
        ({"activation": "swish"}, ValueError, "unknown activation 'swish'"),
        ({"dropout": 1.0}, ValueError, r"drop probability in \[0, 1\)"),
        ({"rng": 1}, TypeError, r"numpy\.random\.Generator"),
        ({"init": "nope"}, ValueError, "unknown initializer"),
    ],
)
def test_mlp_rejects_bad_arguments(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    args: dict[str, Any] = {"rng": np.random.default_rng(0)}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        mlp([4, 3, 2], **args)


# Sequential: end to end


class WithLoss(Module):
    """A network followed by a loss, so that check_module sees one scalar function."""

    def __init__(self, model: Sequential) -> None:
        super().__init__()
        self.model, self.loss = model, SoftmaxCrossEntropy()

    def forward(self, x: Any, y: Any, training: bool = True) -> float:  # type: ignore[override]
        return self.loss.forward(self.model.forward(x, training=training), y)

    def backward(self, dy: Any = 1.0) -> Any:
        return self.model.backward(self.loss.backward(dy))

    def named_parameters(self) -> list[tuple[str, Any, Any]]:
        return self.model.named_parameters()

    def zero_grad(self) -> None:
        self.model.zero_grad()


def mlp_loss_oracle(params: list[Any], x: np.ndarray, y: np.ndarray) -> Any:
    """The same tanh MLP and mean cross-entropy, in autograd.numpy."""
    h = x
    for i in range(0, len(params), 2):
        h = anp.dot(h, params[i]) + params[i + 1]
        if i + 2 < len(params):
            h = anp.tanh(h)
    shifted = h - anp.max(h, axis=1, keepdims=True)
    logp = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
    return -anp.mean(logp[np.arange(len(y)), y])


@gradient_checks
@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4), n=st.integers(1, 5), seed=seeds)
def test_mlp_with_softmax_cross_entropy_passes_the_gradient_check_end_to_end(
    sizes: list[int], n: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    sizes = [*sizes, 3]
    model = mlp(sizes, rng=rng, activation="tanh")
    for _, p, _ in model.named_parameters():
        p += rng.uniform(-0.5, 0.5, p.shape)  # biases off zero too
    x, y = rng.uniform(-2, 2, (n, sizes[0])), rng.integers(0, 3, n)
    names = {name for name, _, _ in model.named_parameters()}
    assert_checked(check_module(WithLoss(model), x, y, rng=rng), {"x"} | names)
    params = [p for p, _ in model.parameters()]
    oracle = grad(mlp_loss_oracle)(params, x, y)
    for (name, _, g), expected in zip(model.named_parameters(), oracle, strict=True):
        assert_matches_oracle(g, expected, f"d{name}")


def test_relu_mlp_passes_the_gradient_check_away_from_kinks() -> None:
    rng = np.random.default_rng(11)
    model = mlp([4, 6, 5, 3], rng=rng, dropout=0.3)
    x, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    pre = [model[0].forward(x), model[3].forward(np.maximum(model[0].forward(x), 0))]
    assert min(np.abs(z).min() for z in pre) > 1e-3, "pick a seed whose pre-activations avoid 0"
    errors = check_module(WithLoss(model), x, y, rng=rng)
    assert_checked(errors, {"x", "0.W", "0.b", "3.W", "3.b", "6.W", "6.b"})


def test_sequential_composes_forward_and_reverses_backward() -> None:
    rng = np.random.default_rng(2)
    first, second = Linear(3, 4, rng=rng), Linear(4, 2, rng=rng)
    model = Sequential(first, Tanh(), second)
    x, dy = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    h = np.tanh(x @ first.params["W"] + first.params["b"])
    np.testing.assert_allclose(model.forward(x), h @ second.params["W"] + second.params["b"])
    dx = model.backward(dy)
    dh = (dy @ second.params["W"].T) * (1 - h**2)
    np.testing.assert_allclose(dx, dh @ first.params["W"].T)
    np.testing.assert_allclose(second.grads["W"], h.T @ dy)


# Sequential: parameters and state


def test_parameters_are_the_layers_own_arrays_in_order() -> None:
    model = mlp([3, 4, 2], rng=np.random.default_rng(0))
    pairs = model.parameters()
    assert pairs[0][0] is model[0].params["W"] and pairs[0][1] is model[0].grads["W"]
    assert pairs[3][0] is model[2].params["b"]


def test_nested_sequential_names_parameters_by_path() -> None:
    rng = np.random.default_rng(0)
    model = Sequential(Linear(2, 2, rng=rng), Sequential(Tanh(), Linear(2, 1, rng=rng)))
    assert [n for n, _, _ in model.named_parameters()] == ["0.W", "0.b", "1.1.W", "1.1.b"]
    assert model.n_parameters == 6 + 3


def test_gradients_accumulate_until_zero_grad_resets_them_in_place() -> None:
    rng = np.random.default_rng(3)
    model = mlp([3, 4, 2], rng=rng, activation="tanh")
    x1, x2 = rng.standard_normal((2, 3)), rng.standard_normal((5, 3))
    dy1, dy2 = rng.standard_normal((2, 2)), rng.standard_normal((5, 2))
    held = model.parameters()

    def grads_of(x: np.ndarray, dy: np.ndarray) -> list[np.ndarray]:
        model.zero_grad()
        model.forward(x)
        model.backward(dy)
        return [g.copy() for _, g in model.parameters()]

    separate = [a + b for a, b in zip(grads_of(x1, dy1), grads_of(x2, dy2), strict=True)]
    model.zero_grad()
    for x, dy in ((x1, dy1), (x2, dy2)):
        model.forward(x)
        model.backward(dy)
    for (_, g), expected in zip(held, separate, strict=True):
        np.testing.assert_allclose(g, expected, rtol=1e-12)
    model.zero_grad()
    assert all(not g.any() for _, g in held)


def test_state_dict_is_a_snapshot_and_load_state_dict_restores_in_place() -> None:
    model = mlp([3, 4, 2], rng=np.random.default_rng(0))
    snapshot = model.state_dict()
    W = model[0].params["W"]
    W += 1.0
    assert not np.array_equal(snapshot["0.W"], W)
    model.load_state_dict(snapshot)
    assert model[0].params["W"] is W
    np.testing.assert_array_equal(W, snapshot["0.W"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.pop("2.b"), r"missing \['2.b'\]"),
        (lambda s: s.update(extra=np.zeros(1)), r"unexpected \['extra'\]"),
        (lambda s: s.update({"0.W": np.zeros((4, 3))}), r"'0.W' has shape \(4, 3\), expected"),
    ],
)
def test_load_state_dict_rejects_another_architecture(edit: Any, message: str) -> None:
    model = mlp([3, 4, 2], rng=np.random.default_rng(0))
    state = model.state_dict()
    edit(state)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)


def test_a_refused_load_state_dict_leaves_every_parameter_as_it_was() -> None:
    model = mlp([3, 4, 2], rng=np.random.default_rng(0))
    before = model.state_dict()
    other = mlp([3, 4, 2], rng=np.random.default_rng(1)).state_dict()
    other["2.W"] = np.zeros((4, 5))  # the first layer fits, the second does not
    with pytest.raises(ValueError, match=r"'2\.W' has shape"):
        model.load_state_dict(other)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_sequential_rejects_something_that_is_not_a_module() -> None:
    with pytest.raises(TypeError, match="got ufunc at position 1"):
        Sequential(Tanh(), np.tanh)  # type: ignore[arg-type]


def test_sequential_indexes_iterates_and_prints_its_modules() -> None:
    model = Sequential(Tanh(), ReLU())
    assert len(model) == 2 and isinstance(model[1], ReLU)
    assert [type(m) for m in model] == [Tanh, ReLU]
    assert repr(model) == "Sequential(\n  (0) Tanh(),\n  (1) ReLU()\n)"
