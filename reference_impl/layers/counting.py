"""How many parameters a fully connected network has."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from reference_impl.layers._common import check_layer_sizes

__all__ = ["count_parameters"]


def count_parameters(layer_sizes: Sequence[int]) -> int:
    """Parameters of a fully connected net: Σ_l (d_in · d_out + d_out) over its layers.

    Each layer has a (d_in, d_out) weight matrix and d_out biases. For 784-128-32-10
    this is 100,480 + 4,128 + 330 = 104,938. layer_sizes: widths from input to output.
    """
    sizes = check_layer_sizes(layer_sizes)
    return sum(d_in * d_out + d_out for d_in, d_out in pairwise(sizes))
