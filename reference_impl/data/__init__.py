"""Data for the course: the shipped 8×8 digits, MNIST's IDX files, splits and batches."""

from reference_impl.data.digits import DIGITS_SHA256, load_digits
from reference_impl.data.idx import load_mnist, read_idx, write_idx
from reference_impl.data.splits import Split, Standardizer, minibatches, train_val_test_split

__all__ = [
    "DIGITS_SHA256",
    "Split",
    "Standardizer",
    "load_digits",
    "load_mnist",
    "minibatches",
    "read_idx",
    "train_val_test_split",
    "write_idx",
]
