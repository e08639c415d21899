"""Tests for reference_impl.plotting: each function returns a Figure with the expected parts."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch

from reference_impl import plotting
from reference_impl.activations import relu, relu_grad, sigmoid, sigmoid_grad


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    before = set(plt.get_fignums())
    yield
    for number in set(plt.get_fignums()) - before:
        plt.close(number)


def _render(figure: Figure) -> None:
    """Draw the figure off-screen: catches errors that only appear at draw time."""
    figure.canvas.draw()


def test_the_backend_is_headless_agg() -> None:
    assert matplotlib.get_backend().lower() == "agg"


def test_plot_activation_draws_the_function_and_its_derivative() -> None:
    figure = plotting.plot_activation(sigmoid, sigmoid_grad, name="sigmoid")
    _render(figure)
    (ax,) = figure.axes
    assert len(ax.lines) == 2
    z = np.asarray(ax.lines[0].get_xdata())
    derivative = np.asarray(ax.lines[1].get_ydata())
    assert len(z) == 401 and z[0] == -5 and z[-1] == 5
    np.testing.assert_allclose(np.asarray(ax.lines[0].get_ydata()), sigmoid(z))
    np.testing.assert_allclose(derivative, sigmoid_grad(z))
    assert derivative.max() == pytest.approx(0.25)


def test_plot_activation_into_a_given_axes_adds_no_figure() -> None:
    figure, ax = plt.subplots()
    count = len(plt.get_fignums())
    out = plotting.plot_activation(relu, relu_grad, name="relu", z=np.linspace(-1, 1, 11), ax=ax)
    assert out is figure and len(plt.get_fignums()) == count
    assert np.asarray(ax.lines[0].get_xdata()).shape == (11,)


def test_plot_activations_makes_one_panel_per_name_with_two_lines_each() -> None:
    names = ["sigmoid", "tanh", "relu", "elu"]
    figure = plotting.plot_activations(names, ncols=3)
    _render(figure)
    assert len(figure.axes) == 4
    assert [ax.get_title() for ax in figure.axes] == names
    assert all(len(ax.lines) == 2 for ax in figure.axes)


def test_plot_activations_rejects_an_unknown_name() -> None:
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        plotting.plot_activations(["relu", "swish"])


def test_plot_layer_histograms_makes_one_histogram_per_layer_titled_with_std() -> None:
    rng = np.random.default_rng(0)
    values = [rng.normal(0, s, size=(50, 8)) for s in (1.0, 0.5, 0.25)]
    figure = plotting.plot_layer_histograms(values, title="tanh", bins=12)
    _render(figure)
    assert len(figure.axes) == 3
    for ax, v in zip(figure.axes, values, strict=True):
        (patch,) = ax.patches
        assert isinstance(patch, StepPatch)
        counts, edges, _ = patch.get_data()
        assert len(edges) == 13 and counts.sum() == v.size
    assert figure.axes[2].get_title().startswith("layer 3")
    assert f"{np.std(values[0]):.2g}" in figure.axes[0].get_title()


def test_plot_layer_histograms_wraps_many_layers_onto_rows() -> None:
    values = [np.full(5, float(i)) for i in range(23)]
    figure = plotting.plot_layer_histograms(values, ncols=10)
    assert len(figure.axes) == 23
    rows = {round(ax.get_position().y0, 3) for ax in figure.axes}
    assert len(rows) == 3


def test_plot_std_by_depth_draws_one_line_per_label_on_a_log_scale() -> None:
    stds = {"xavier": [1.0, 0.9, 0.8], "too small": [1.0, 0.1, 0.01]}
    figure = plotting.plot_std_by_depth(stds)
    _render(figure)
    (ax,) = figure.axes
    assert len(ax.lines) == 2 and ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), [1, 2, 3])


def test_plot_loss_curves_from_a_dict_draws_train_and_val_on_two_panels() -> None:
    history = {"train_loss": [2.0, 1.0, 0.5], "val_loss": [2.1, 1.2, 0.9],
               "train_acc": [0.3, 0.6, 0.9], "val_acc": [0.3, 0.5, 0.8]}
    figure = plotting.plot_loss_curves(history)
    _render(figure)
    loss_ax, acc_ax = figure.axes
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 2
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), [2.1, 1.2, 0.9])
    np.testing.assert_array_equal(acc_ax.lines[0].get_xdata(), [1, 2, 3])


def test_plot_loss_curves_marks_the_best_epoch_of_a_history() -> None:
    from reference_impl.training import History

    history = History(train_loss=[1.0, 0.5, 0.3], train_acc=[0.5, 0.7, 0.9],
                      val_loss=[1.1, 0.8, 0.9], val_acc=[0.4, 0.6, 0.6], best_epoch=1)
    figure = plotting.plot_loss_curves(history)
    loss_ax, _ = figure.axes
    assert len(loss_ax.lines) == 3
    assert np.asarray(loss_ax.lines[2].get_xdata())[0] == 2


def test_plot_loss_curves_skips_missing_curves_and_rejects_none_at_all() -> None:
    figure = plotting.plot_loss_curves({"train_loss": [1.0, 0.5]})
    assert [len(ax.lines) for ax in figure.axes] == [1, 0]
    with pytest.raises(ValueError, match="no curves to plot"):
        plotting.plot_loss_curves({})


def _bowl(w: np.ndarray) -> np.ndarray:
    return w[0] ** 2 + 10 * w[1] ** 2


def test_plot_trajectories_draws_contours_and_one_path_per_optimizer() -> None:
    paths = {"sgd": np.array([[2.0, 1.0], [1.0, 0.5], [0.5, 0.1]]),
             "momentum": np.array([[2.0, 1.0], [0.0, -0.2]])}
    figure = plotting.plot_trajectories(_bowl, paths, xlim=(-3, 3), ylim=(-2, 2), levels=10)
    _render(figure)
    (ax,) = figure.axes
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), paths["sgd"][:, 0])
    assert ax.get_xlim() == (-3, 3)
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["sgd", "momentum"]


def test_plot_trajectories_evaluates_a_pointwise_only_function_and_infers_limits() -> None:
    calls: list[int] = []

    def pointwise(w: np.ndarray) -> float:
        calls.append(1)
        if w.shape != (2,):
            raise ValueError("one point at a time")
        return float(w @ w)

    path = np.array([[1.0, 1.0], [0.0, 0.0]])
    figure = plotting.plot_trajectories(pointwise, {"gd": path}, resolution=20)
    (ax,) = figure.axes
    assert len(calls) == 1 + 20 * 20
    low, high = ax.get_xlim()
    assert low < 0 < 1 < high


def test_plot_trajectories_rejects_paths_that_are_not_2d_points() -> None:
    with pytest.raises(ValueError, match=r"shape \(T, 2\)"):
        plotting.plot_trajectories(_bowl, {"bad": np.zeros((4, 3))})


def test_plot_decision_boundary_fills_regions_and_scatters_every_point() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int)
    figure = plotting.plot_decision_boundary(lambda P: (P[:, 0] > 0).astype(int), X, y,
                                             resolution=50)
    _render(figure)
    (ax,) = figure.axes
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 1 and np.asarray(scatters[0].get_offsets()).shape == (30, 2)


def test_plot_decision_boundary_takes_scores_and_rejects_3d_inputs() -> None:
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    figure = plotting.plot_decision_boundary(lambda P: np.column_stack([P[:, 0], -P[:, 0]]),
                                             X, np.array([0, 1]), resolution=10)
    assert len(figure.axes) == 1
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        plotting.plot_decision_boundary(lambda P: P[:, 0], np.zeros((3, 3)), np.zeros(3))


def test_plot_confusion_matrix_annotates_every_cell_with_its_count() -> None:
    cm = np.array([[5, 1, 0], [0, 7, 2], [1, 0, 9]])
    figure = plotting.plot_confusion_matrix(cm)
    _render(figure)
    (ax,) = figure.axes
    assert len(ax.images) == 1 and len(ax.texts) == 9
    assert [t.get_text() for t in ax.texts][:3] == ["5", "1", "0"]


def test_plot_confusion_matrix_normalised_rows_show_shares() -> None:
    cm = np.array([[3, 1], [0, 0]])
    figure = plotting.plot_confusion_matrix(cm, normalize=True, class_names=["a", "b"])
    (ax,) = figure.axes
    assert [t.get_text() for t in ax.texts] == ["0.75", "0.25", "0.00", "0.00"]
    with pytest.raises(ValueError, match="square confusion matrix"):
        plotting.plot_confusion_matrix(np.zeros((2, 3)))


def test_plot_images_shows_flat_8x8_images_with_label_titles() -> None:
    images = np.random.default_rng(0).random((12, 64))
    figure = plotting.plot_images(images, np.arange(12) % 10, ncols=5)
    _render(figure)
    assert len(figure.axes) == 12
    assert np.asarray(figure.axes[0].images[0].get_array()).shape == (8, 8)
    assert figure.axes[11].get_title() == "1"


def test_plot_images_marks_wrong_predictions_in_red() -> None:
    images = np.zeros((3, 8, 8))
    figure = plotting.plot_images(images, np.array([1, 2, 3]), np.array([1, 5, 3]))
    titles = [ax.title for ax in figure.axes]
    assert [t.get_text() for t in titles] == ["1→1", "2→5", "3→3"]
    assert titles[1].get_color() == "red" and titles[0].get_color() == "black"


def test_plot_images_rejects_non_square_flat_images() -> None:
    with pytest.raises(ValueError, match="square number of pixels"):
        plotting.plot_images(np.zeros((2, 10)), np.array([0, 1]))


def test_no_function_calls_show(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("plt.show was called")

    monkeypatch.setattr(plt, "show", forbidden)
    plotting.plot_activations(["relu"])
    plotting.plot_loss_curves({"train_loss": [1.0]})
    plotting.plot_images(np.zeros((1, 64)), np.array([0]))
    assert plt.get_fignums()
