"""Saving a model's weights to disk and loading them back, as numpy ``.npz`` archives.

An archive holds one array per parameter, stored under the name ``named_parameters()``
gives it ("0.W", "0.b", "2.W", …), so that loading can tell which array goes where and
refuse a file written by another architecture. Loading writes into the model's existing
arrays, in place, so an optimizer that already holds ``(param, grad)`` pairs keeps
updating the model it was given. Only parameters are saved: a layer's other state (the
running statistics of ``BatchNorm``) is not in ``named_parameters()`` and would need
entries of its own, as PyTorch's ``state_dict`` keeps "buffers" beside parameters.

``np.load`` never unpickles here (``allow_pickle=False``, its default): an archive of
plain arrays cannot run code when it is opened, a pickle can.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["load_weights", "save_weights"]


def _named(model: Any) -> list[tuple[str, NDArray[Any]]]:
    """(name, parameter) pairs of a Sequential (``named_parameters``) or of one module."""
    named = getattr(model, "named_parameters", None)
    if callable(named):
        return [(entry[0], entry[1]) for entry in named()]
    params = getattr(model, "params", None)
    if isinstance(params, dict):
        return list(params.items())
    raise TypeError(f"expected a model with named_parameters() or params, got {type(model).__name__}")


def _npz_path(path: Any) -> str:
    text = os.fspath(path)
    if not isinstance(text, str) or not text.endswith(".npz"):
        raise ValueError(f"give a path ending in .npz, got {path!r}: np.savez would add the "
                         "suffix, and the file would not be where you look for it")
    return text


def save_weights(model: Any, path: str | os.PathLike[str]) -> None:
    """Write every parameter of ``model`` to the .npz archive ``path``, under its name.

    model: a Sequential (names "0.W", "0.b", …) or a single module (its ``params`` keys).
    The model is not changed; an existing file at ``path`` is replaced.
    """
    arrays: dict[str, Any] = dict(_named(model))
    np.savez(_npz_path(path), **arrays)


def load_weights(model: Any, path: str | os.PathLike[str]) -> None:
    """Copy the arrays of the archive ``path`` into ``model``'s parameters, in place.

    The archive must hold exactly the model's parameter names, each with the shape of that
    parameter; otherwise ValueError names the missing, unexpected or misshapen entries,
    and nothing has been written: the model is unchanged. Values are cast to each
    parameter's dtype.
    """
    own = dict(_named(model))
    with np.load(_npz_path(path)) as archive:
        stored = {name: archive[name] for name in archive.files}
    missing = sorted(set(own) - set(stored))
    unexpected = sorted(set(stored) - set(own))
    if missing or unexpected:
        raise ValueError(f"{os.fspath(path)} was saved from another architecture: missing "
                         f"{missing}, unexpected {unexpected}; load it into a model built with "
                         "the same layers")
    misshapen = [f"{name!r} is {stored[name].shape} in the file but {p.shape} in the model"
                 for name, p in own.items() if stored[name].shape != p.shape]
    if misshapen:
        raise ValueError(f"{os.fspath(path)} was saved from another architecture: "
                         + "; ".join(misshapen))
    for name, p in own.items():  # every entry fits: only now write, so a refusal changes nothing
        p[...] = stored[name]
