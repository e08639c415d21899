"""Tests for reference_impl.data: the shipped digits, IDX files, splits, batches, scaling."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from reference_impl.data import (
    DIGITS_SHA256,
    Standardizer,
    load_digits,
    load_mnist,
    minibatches,
    read_idx,
    train_val_test_split,
    write_idx,
)
from reference_impl.data.digits import _read_verified, arrays_sha256
from tests.strategies import seeds

DIGITS_NPZ = Path(__file__).parents[2] / "reference_impl" / "data" / "digits.npz"


# --- digits ---------------------------------------------------------------------------


def test_load_digits_gives_1617_flat_images_in_unit_interval_and_int_labels() -> None:
    X, y = load_digits()
    assert X.shape == (1617, 64) and X.dtype == np.float64
    assert y.shape == (1617,) and y.dtype == np.intp
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))


def test_load_digits_unscaled_images_hold_the_integer_counts_0_to_16() -> None:
    X, _ = load_digits(flatten=False, scale=False)
    assert X.shape == (1617, 8, 8)
    assert np.array_equal(X, np.round(X)) and X.min() == 0 and X.max() == 16


def test_load_digits_scaled_is_unscaled_divided_by_16() -> None:
    scaled, _ = load_digits(flatten=False)
    raw, _ = load_digits(flatten=False, scale=False)
    np.testing.assert_array_equal(scaled * 16, raw)


def test_digits_have_about_160_examples_per_class_after_18_per_class_held_out() -> None:
    _, y = load_digits()
    counts = np.bincount(y, minlength=10)
    assert counts.min() >= 152 and counts.max() <= 172


def test_shipped_digits_file_matches_the_recorded_sha256() -> None:
    with np.load(DIGITS_NPZ) as archive:
        assert arrays_sha256(archive["images"], archive["labels"]) == DIGITS_SHA256


def test_a_changed_pixel_is_reported_as_a_corrupt_file(tmp_path: Path) -> None:
    with np.load(DIGITS_NPZ) as archive:
        images, labels = archive["images"].copy(), archive["labels"].copy()
    images[100, 3, 4] ^= 1
    bad = tmp_path / "digits.npz"
    np.savez(bad, images=images, labels=labels)
    with pytest.raises(ValueError, match="corrupt"):
        _read_verified(bad)


def test_a_missing_array_or_a_non_npz_file_is_reported_as_corrupt(tmp_path: Path) -> None:
    partial = tmp_path / "partial.npz"
    np.savez(partial, images=np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="lacks the array 'labels'"):
        _read_verified(partial)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not an archive at all")
    with pytest.raises(ValueError, match="corrupt"):
        _read_verified(garbage)


def test_the_unmodified_shipped_file_passes_verification() -> None:
    images, labels = _read_verified(DIGITS_NPZ)
    assert images.shape == (1617, 8, 8) and labels.shape == (1617,)


# --- IDX ------------------------------------------------------------------------------

IDX_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def test_idx_header_is_two_zero_bytes_type_code_ndim_then_big_endian_dims(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "a.idx", np.arange(6, dtype=np.int16).reshape(2, 3))
    raw = path.read_bytes()
    assert raw[:4] == bytes([0, 0, 0x0B, 2])
    assert struct.unpack(">II", raw[4:12]) == (2, 3)
    assert struct.unpack(">6h", raw[12:]) == (0, 1, 2, 3, 4, 5)


def test_read_idx_decodes_a_hand_written_uint8_label_file(tmp_path: Path) -> None:
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    labels = read_idx(path)
    assert labels.dtype == np.uint8
    np.testing.assert_array_equal(labels, [7, 2, 1])


@given(
    dtype=st.sampled_from(IDX_DTYPES),
    shape=st.lists(st.integers(0, 4), min_size=1, max_size=3),
    compress=st.booleans(),
    seed=seeds,
)
def test_write_then_read_idx_returns_the_same_array_and_dtype(
    tmp_path_factory: pytest.TempPathFactory,
    dtype: type,
    shape: list[int],
    compress: bool,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    array: np.ndarray = (rng.standard_normal(shape) * 100).astype(dtype)
    name = "x.idx.gz" if compress else "x.idx"
    path = write_idx(tmp_path_factory.mktemp("idx") / name, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)


def test_gz_suffix_writes_a_gzip_archive_of_the_plain_bytes(tmp_path: Path) -> None:
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    plain = write_idx(tmp_path / "a.idx", array)
    packed = write_idx(tmp_path / "a.idx.gz", array)
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()


def test_write_idx_rejects_a_dtype_idx_cannot_store(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="IDX cannot store dtype int64"):
        write_idx(tmp_path / "a.idx", np.arange(3, dtype=np.int64))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x00", "truncated: 2 bytes"),
        (bytes([1, 0, 8, 1, 0, 0, 0, 1, 5]), "bad magic"),
        (bytes([0, 0, 0x0A, 1, 0, 0, 0, 1, 5]), "unknown type code 0x0A"),
        (bytes([0, 0, 8, 3, 0, 0, 0, 1]), "truncated: its header declares 3"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 4, 5, 6]), "truncated: shape \\(4,\\)"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 1, 5, 6]), "size mismatch"),
    ],
)
def test_read_idx_names_the_file_and_what_is_wrong(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "broken-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert "broken-idx1-ubyte" in str(info.value)


def test_read_idx_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        read_idx(tmp_path / "nothing-here")


def _fake_mnist(
    directory: Path, kind: str, n: int, *, gz: bool = False, n_labels: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n if n_labels is None else n_labels, dtype=np.uint8)
    suffix = ".gz" if gz else ""
    write_idx(directory / f"{kind}-images-idx3-ubyte{suffix}", images)
    write_idx(directory / f"{kind}-labels-idx1-ubyte{suffix}", labels)
    return images, labels


@pytest.mark.parametrize(("kind", "gz"), [("train", False), ("t10k", True)])
def test_load_mnist_reads_plain_or_gzipped_files_and_scales_to_unit_interval(
    tmp_path: Path, kind: str, gz: bool
) -> None:
    images, labels = _fake_mnist(tmp_path, kind, 5, gz=gz)
    X, y = load_mnist(tmp_path, kind=kind)  # type: ignore[arg-type]
    assert X.shape == (5, 784) and X.dtype == np.float64 and y.dtype == np.intp
    np.testing.assert_allclose(X * 255, images.reshape(5, 784))
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_can_keep_28x28_images_and_raw_intensities(tmp_path: Path) -> None:
    images, _ = _fake_mnist(tmp_path, "train", 3)
    X, _ = load_mnist(tmp_path, flatten=False, scale=False)
    np.testing.assert_array_equal(X, images)


def test_load_mnist_missing_file_error_lists_the_names_looked_for(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path, kind="t10k")
    message = str(info.value)
    assert "t10k-images-idx3-ubyte or t10k-images-idx3-ubyte.gz" in message
    assert "Nothing is downloaded" in message


def test_load_mnist_reports_images_and_labels_of_different_counts(tmp_path: Path) -> None:
    _fake_mnist(tmp_path, "train", 4, n_labels=3)
    with pytest.raises(ValueError, match="size mismatch: train-images-idx3-ubyte has 4 images"):
        load_mnist(tmp_path)


def test_load_mnist_rejects_an_unknown_kind_and_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="kind must be 'train' or 't10k'"):
        load_mnist(tmp_path, kind="test")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "absent")


def test_load_mnist_rejects_label_file_passed_as_images(tmp_path: Path) -> None:
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros(4, np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match=r"shape \(N, rows, cols\)"):
        load_mnist(tmp_path)


# --- splits ---------------------------------------------------------------------------


def _labelled(n_per_class: list[int]) -> tuple[np.ndarray, np.ndarray]:
    y = np.repeat(np.arange(len(n_per_class)), n_per_class)
    X = np.arange(len(y), dtype=np.float64)[:, None] * np.ones((1, 3))
    return X, y


@given(
    n_per_class=st.lists(st.integers(1, 40), min_size=1, max_size=5),
    stratify=st.booleans(),
    seed=seeds,
)
def test_split_parts_are_disjoint_cover_everything_and_keep_rows_with_labels(
    n_per_class: list[int], stratify: bool, seed: int
) -> None:
    X, y = _labelled(n_per_class)
    assume(len(y) >= 4)
    parts = train_val_test_split(X, y, rng=np.random.default_rng(seed), stratify=stratify)
    ids = np.concatenate([parts.X_train[:, 0], parts.X_val[:, 0], parts.X_test[:, 0]])
    assert sorted(ids.astype(int).tolist()) == list(range(len(y)))
    for Xp, yp in [(parts.X_train, parts.y_train), (parts.X_val, parts.y_val),
                   (parts.X_test, parts.y_test)]:
        np.testing.assert_array_equal(y[Xp[:, 0].astype(int)], yp)
    assert len(parts.y_test) == round(0.15 * len(y))
    assert len(parts.y_val) == round(0.15 * len(y))


def test_stratified_split_keeps_each_class_share_in_every_part() -> None:
    X, y = _labelled([200, 100, 60])
    parts = train_val_test_split(X, y, rng=np.random.default_rng(1), val_fraction=0.2,
                                 test_fraction=0.1)
    for yp, fraction in [(parts.y_val, 0.2), (parts.y_test, 0.1)]:
        counts = np.bincount(yp, minlength=3)
        np.testing.assert_allclose(counts, fraction * np.array([200, 100, 60]), atol=1)


def test_stratified_digits_split_has_every_class_in_every_part() -> None:
    X, y = load_digits()
    parts = train_val_test_split(X, y, rng=np.random.default_rng(0))
    for yp in (parts.y_train, parts.y_val, parts.y_test):
        assert set(np.unique(yp)) == set(range(10))
    assert (len(parts.y_train), len(parts.y_val), len(parts.y_test)) == (1131, 243, 243)


def test_split_is_reproducible_for_a_seed_and_changes_with_the_seed() -> None:
    X, y = _labelled([30, 30])
    a = train_val_test_split(X, y, rng=np.random.default_rng(5))
    b = train_val_test_split(X, y, rng=np.random.default_rng(5))
    c = train_val_test_split(X, y, rng=np.random.default_rng(6))
    for left, right in zip(a, b, strict=True):
        np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a.X_train, c.X_train)


def test_split_parts_are_not_sorted_by_class() -> None:
    X, y = _labelled([50, 50])
    parts = train_val_test_split(X, y, rng=np.random.default_rng(0))
    assert not np.all(np.diff(parts.y_train) >= 0)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"val_fraction": -0.1}, ValueError, "val_fraction must lie in"),
        ({"test_fraction": 1.0}, ValueError, "test_fraction must lie in"),
        ({"val_fraction": 0.5, "test_fraction": 0.5}, ValueError, "keep their sum below 1"),
        ({"rng": 0}, TypeError, "numpy.random.Generator"),
    ],
)
def test_split_rejects_bad_fractions_and_a_missing_generator(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    X, y = _labelled([10, 10])
    options: dict[str, object] = {"rng": np.random.default_rng(0), **kwargs}
    with pytest.raises(error, match=message):
        train_val_test_split(X, y, **options)  # type: ignore[arg-type]


def test_split_rejects_mismatched_lengths_and_float_labels() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="X has 5 examples but y has 4"):
        train_val_test_split(np.zeros((5, 2)), np.zeros(4, int), rng=rng)
    with pytest.raises(TypeError, match="integer class labels"):
        train_val_test_split(np.zeros((5, 2)), np.zeros(5), rng=rng)


# --- minibatches ----------------------------------------------------------------------


@given(n=st.integers(1, 50), batch_size=st.integers(1, 20), drop_last=st.booleans(), seed=seeds)
def test_one_epoch_of_minibatches_visits_each_example_at_most_once(
    n: int, batch_size: int, drop_last: bool, seed: int
) -> None:
    X = np.arange(n, dtype=np.float64)[:, None]
    y = np.arange(n)
    batches = list(minibatches(X, y, batch_size, rng=np.random.default_rng(seed),
                               drop_last=drop_last))
    seen = np.concatenate([yb for _, yb in batches]) if batches else np.array([], int)
    assert len(set(seen.tolist())) == len(seen)
    expected = n - n % batch_size if drop_last else n
    assert len(seen) == expected
    assert all(len(yb) == batch_size for _, yb in batches[:-1])
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, 0], yb)


def test_minibatches_without_shuffle_keep_the_original_order() -> None:
    X, y = np.arange(10.0)[:, None], np.arange(10)
    sizes = [len(yb) for _, yb in minibatches(X, y, 4, shuffle=False)]
    order = np.concatenate([yb for _, yb in minibatches(X, y, 4, shuffle=False)])
    assert sizes == [4, 4, 2]
    np.testing.assert_array_equal(order, y)


def test_minibatches_are_reproducible_for_a_seed_and_shuffled() -> None:
    X, y = np.arange(100.0)[:, None], np.arange(100)
    first = [yb for _, yb in minibatches(X, y, 10, rng=np.random.default_rng(3))]
    again = [yb for _, yb in minibatches(X, y, 10, rng=np.random.default_rng(3))]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(np.concatenate(first), y)


def test_minibatches_check_arguments_when_called_not_when_iterated() -> None:
    X, y = np.zeros((4, 2)), np.zeros(4, int)
    with pytest.raises(TypeError, match="shuffle=True needs rng"):
        minibatches(X, y, 2)
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        minibatches(X, y, 0, shuffle=False)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        minibatches(X, y, 2.0, shuffle=False)  # type: ignore[arg-type]


# --- Standardizer ---------------------------------------------------------------------


def test_standardizer_gives_zero_mean_unit_std_on_the_training_data() -> None:
    X = np.random.default_rng(0).normal(3.0, 5.0, size=(200, 4))
    Z = Standardizer().fit_transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-12)


def test_standardizer_applies_training_statistics_to_new_data() -> None:
    train = np.array([[0.0, 10.0], [2.0, 30.0]])
    scaler = Standardizer().fit(train)
    np.testing.assert_allclose(scaler.transform(np.array([[1.0, 40.0]])), [[0.0, 2.0]])


def test_standardizer_maps_a_constant_feature_to_zero_not_nan() -> None:
    X, _ = load_digits()
    Z = Standardizer().fit_transform(X)
    assert np.isfinite(Z).all()
    constant = X.std(axis=0) == 0
    assert constant.any()
    np.testing.assert_array_equal(Z[:, constant], 0.0)


def test_standardizer_inverse_undoes_transform_and_keeps_float32() -> None:
    X = np.random.default_rng(1).normal(size=(20, 3)).astype(np.float32)
    scaler = Standardizer().fit(X)
    Z = scaler.transform(X)
    assert Z.dtype == np.float32
    np.testing.assert_allclose(scaler.inverse_transform(Z), X, rtol=1e-5, atol=1e-6)


def test_standardizer_requires_fit_and_the_same_number_of_features() -> None:
    with pytest.raises(ValueError, match="not fitted yet"):
        Standardizer().transform(np.zeros((2, 2)))
    scaler = Standardizer().fit(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"expected X of shape \(N, 3\)"):
        scaler.transform(np.zeros((2, 2)))
