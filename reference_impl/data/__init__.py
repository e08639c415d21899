"""Data for the course: the shipped 8×8 digits, MNIST's IDX files, splits and batches.

Names are imported from their modules on first use, so a notebook's sandbox can leave a
module out (``batches`` implements what notebook 5 asks for) and the rest still works.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reference_impl._lazy import lazy_exports

if TYPE_CHECKING:
    from reference_impl.data.batches import minibatches
    from reference_impl.data.digits import DIGITS_SHA256, load_digits
    from reference_impl.data.idx import load_mnist, read_idx, write_idx
    from reference_impl.data.splits import Split, Standardizer, train_val_test_split

_EXPORTS = {
    "DIGITS_SHA256": "digits", "load_digits": "digits",
    "load_mnist": "idx", "read_idx": "idx", "write_idx": "idx",
    "minibatches": "batches",
    "Split": "splits", "Standardizer": "splits", "train_val_test_split": "splits",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

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


