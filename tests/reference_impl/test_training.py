"""Tests for reference_impl.training: the loop, early stopping, evaluation, confusion matrix."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_impl.data import Standardizer, load_digits, train_val_test_split
from reference_impl.layers import Dropout, Linear, ReLU, Sequential, mlp
from reference_impl.losses import misclassification_rate, softmax_cross_entropy
from reference_impl.optimizers import SGD, Adam
from reference_impl.training import History, confusion_matrix, evaluate, fit, predict
from tests.strategies import seeds

DIGITS_SPLIT_SEED = 2024


@pytest.fixture(scope="module")
def digits() -> dict[str, Any]:
    """The digits split once with a fixed seed, standardised with training statistics."""
    X, y = load_digits()
    parts = train_val_test_split(X, y, rng=np.random.default_rng(DIGITS_SPLIT_SEED))
    scaler = Standardizer().fit(parts.X_train)
    return {
        "X_train": scaler.transform(parts.X_train), "y_train": parts.y_train,
        "X_val": scaler.transform(parts.X_val), "y_val": parts.y_val,
        "X_test": scaler.transform(parts.X_test), "y_test": parts.y_test,
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_mlp_reaches_95_percent_test_accuracy_on_digits(
    digits: dict[str, Any], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    model = mlp([64, 64, 10], rng=rng)
    history = fit(model, Adam(lr=1e-2, weight_decay=1e-3), digits["X_train"], digits["y_train"],
                  epochs=15, batch_size=64, rng=rng)
    result = evaluate(model, digits["X_test"], digits["y_test"])
    assert result["accuracy"] >= 0.95, f"test accuracy {result['accuracy']:.3f} < 0.95"
    assert history.train_loss[-1] < history.train_loss[0] / 5


class _Scripted:
    """An 'optimizer' that sets the bias to a scripted value per step: a known loss curve."""

    def __init__(self, biases: list[float]) -> None:
        self.biases = biases
        self.t = 0

    def step(self, pairs: list[tuple[np.ndarray, np.ndarray]]) -> None:
        _, (b, _) = pairs
        b[:] = [self.biases[self.t], 0.0]
        self.t += 1


def _bias_model() -> Linear:
    """Logits = b for inputs of zeros, so the validation loss depends on b alone."""
    layer = Linear(1, 2, rng=np.random.default_rng(0))
    layer.params["W"][:] = 0.0
    return layer


def test_early_stopping_stops_after_patience_and_restores_the_best_weights() -> None:
    # Validation labels are all 0, so the loss falls while b₀ rises, then climbs again.
    biases = [0.0, 1.0, 2.0, 1.5, 1.0, 0.5, 0.0, -1.0]
    model = Sequential(_bias_model())
    X = np.zeros((4, 1))
    history = fit(model, _Scripted(biases), X, np.zeros(4, int), epochs=len(biases),
                  batch_size=4, rng=np.random.default_rng(0), X_val=X,
                  y_val=np.zeros(4, int), patience=3)
    assert history.best_epoch == 2
    assert history.stopped_early
    assert len(history.val_loss) == len(history.train_loss) == 2 + 3 + 1
    np.testing.assert_array_equal(model[0].params["b"], [2.0, 0.0])
    assert evaluate(model, X, np.zeros(4, int))["loss"] == pytest.approx(history.val_loss[2])


def test_without_patience_the_last_weights_are_kept_but_the_best_epoch_is_recorded() -> None:
    biases = [0.0, 2.0, 1.0]
    model = Sequential(_bias_model())
    X = np.zeros((4, 1))
    history = fit(model, _Scripted(biases), X, np.zeros(4, int), epochs=3, batch_size=4,
                  rng=np.random.default_rng(0), X_val=X, y_val=np.zeros(4, int))
    assert history.best_epoch == 1 and not history.stopped_early
    np.testing.assert_array_equal(model[0].params["b"], [1.0, 0.0])


def test_early_stopping_restores_the_best_epoch_of_a_network_that_overfits() -> None:
    # Validation labels are the training labels shifted by one: fitting one unfits the other.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y = rng.integers(0, 4, size=40)
    model = mlp([5, 32, 4], rng=rng)
    snapshots: list[dict[str, np.ndarray]] = []

    def keep(epoch: int, history: History) -> None:
        snapshots.append(model.state_dict())

    history = fit(model, SGD(lr=0.5), X, y, epochs=30, batch_size=10, rng=rng, X_val=X,
                  y_val=(y + 1) % 4, patience=2, callback=keep)
    assert history.best_epoch is not None and history.stopped_early
    assert history.epochs_run == history.best_epoch + 3
    assert history.val_loss[-1] > history.val_loss[history.best_epoch]
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snapshots[history.best_epoch][name])
    assert not np.array_equal(model.state_dict()["0.W"], snapshots[-1]["0.W"])


def test_history_has_one_entry_per_epoch_and_no_validation_curves_without_data() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.integers(0, 3, size=30)
    history = fit(mlp([3, 8, 3], rng=rng), SGD(lr=0.1), X, y, epochs=4, batch_size=7, rng=rng)
    assert len(history.train_loss) == len(history.train_acc) == 4
    assert history.val_loss == [] and history.val_acc == []
    assert history.best_epoch is None and not history.stopped_early
    assert all(0.0 <= a <= 1.0 for a in history.train_acc)


def test_fit_does_the_same_update_as_hand_written_full_batch_gradient_descent() -> None:
    # Two epochs of one full batch: the second step must not reuse the first gradient.
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)
    model = Sequential(Linear(4, 3, rng=np.random.default_rng(1)))
    W, b = model[0].params["W"].copy(), model[0].params["b"].copy()
    history = fit(model, SGD(lr=0.3), X, y, epochs=2, batch_size=6, rng=rng)
    losses = []
    for _ in range(2):
        loss, dz = softmax_cross_entropy(X @ W + b, y)
        losses.append(loss)
        W, b = W - 0.3 * X.T @ dz, b - 0.3 * dz.sum(axis=0)
    np.testing.assert_allclose(model[0].params["W"], W, rtol=1e-12)
    np.testing.assert_allclose(model[0].params["b"], b, rtol=1e-12)
    np.testing.assert_allclose(history.train_loss, losses, rtol=1e-12)


def test_callback_sees_every_epoch_and_can_stop_training() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 2)), rng.integers(0, 2, size=20)
    seen: list[int] = []

    def stop_at_two(epoch: int, history: History) -> bool:
        seen.append(epoch)
        return epoch == 2

    history = fit(mlp([2, 4, 2], rng=rng), SGD(lr=0.1), X, y, epochs=10, batch_size=5, rng=rng,
                  callback=stop_at_two)
    assert seen == [0, 1, 2] and history.epochs_run == 3


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"patience": 2}, ValueError, "pass X_val and y_val"),
        ({"X_val": np.zeros((2, 2))}, ValueError, "pass both X_val and y_val"),
        ({"epochs": 0}, ValueError, "epochs must be at least 1"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an int"),
        ({"rng": 1}, TypeError, "numpy.random.Generator"),
    ],
)
def test_fit_rejects_inconsistent_arguments(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    options: dict[str, Any] = {"epochs": 1, "batch_size": 2, "rng": np.random.default_rng(0)}
    options.update(kwargs)
    with pytest.raises(error, match=message):
        fit(mlp([2, 2], rng=np.random.default_rng(0)), SGD(), np.zeros((4, 2)),
            np.zeros(4, int), **options)


def test_early_stopping_needs_a_model_that_can_save_its_state() -> None:
    X, y = np.zeros((4, 1)), np.zeros(4, int)
    with pytest.raises(TypeError, match=r"wrap the model in Sequential"):
        fit(_bias_model(), SGD(), X, y, epochs=1, batch_size=2, rng=np.random.default_rng(0),
            X_val=X, y_val=y, patience=1)


def test_fit_rejects_float_labels_and_mismatched_lengths() -> None:
    model = mlp([2, 2], rng=np.random.default_rng(0))
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match=r"astype\(int\)"):
        fit(model, SGD(), np.zeros((4, 2)), np.zeros(4), epochs=1, batch_size=2, rng=rng)
    with pytest.raises(ValueError, match="with 4 rows"):
        fit(model, SGD(), np.zeros((4, 2)), np.zeros(3, int), epochs=1, batch_size=2, rng=rng)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fit_reports_a_diverging_loss() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)) * 1e3, rng.integers(0, 3, size=20)
    with pytest.raises((FloatingPointError, ValueError), match="learning rate"):
        fit(mlp([3, 64, 64, 3], rng=rng), SGD(lr=1e6), X, y, epochs=20, batch_size=5, rng=rng)


def test_evaluate_matches_the_loss_and_error_functions() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(25, 4)), rng.integers(0, 3, size=25)
    model = Sequential(Linear(4, 3, rng=rng))
    logits = X @ model[0].params["W"] + model[0].params["b"]
    result = evaluate(model, X, y)
    assert result["loss"] == pytest.approx(softmax_cross_entropy(logits, y)[0], rel=1e-12)
    assert result["accuracy"] == pytest.approx(1 - misclassification_rate(logits, y))
    np.testing.assert_array_equal(predict(model, X), np.argmax(logits, axis=1))


def test_evaluate_and_predict_run_in_inference_mode_without_dropout() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 4)), rng.integers(0, 2, size=50)
    model = Sequential(Linear(4, 16, rng=rng), ReLU(), Dropout(0.5, rng=rng), Linear(16, 2, rng=rng))
    assert evaluate(model, X, y) == evaluate(model, X, y)
    np.testing.assert_array_equal(predict(model, X), predict(model, X))


def test_confusion_matrix_counts_true_rows_against_predicted_columns() -> None:
    cm = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])


@given(n=st.integers(0, 60), c=st.integers(1, 6), seed=seeds)
def test_confusion_matrix_agrees_with_counting_pairs_one_by_one(n: int, c: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth, guess = rng.integers(0, c, size=n), rng.integers(0, c, size=n)
    expected = np.zeros((c, c), dtype=np.int64)
    for t, p in zip(truth, guess, strict=True):
        expected[t, p] += 1
    cm = confusion_matrix(truth, guess, c)
    np.testing.assert_array_equal(cm, expected)
    assert np.trace(cm) == np.sum(truth == guess)


def test_confusion_matrix_rejects_labels_outside_the_classes() -> None:
    with pytest.raises(ValueError, match=r"outside \[0, 2\)"):
        confusion_matrix(np.array([0, 2]), np.array([0, 1]), 2)
    with pytest.raises(TypeError, match="integer labels"):
        confusion_matrix(np.array([0.0, 1.0]), np.array([0, 1]), 2)
