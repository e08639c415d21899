"""The 8×8 handwritten digits shipped with the package, checked against a fixed SHA-256.

Provenance: the test part of "Optical Recognition of Handwritten Digits" by E. Alpaydin
and C. Kaynak (Bogazici University, 1998), UCI Machine Learning Repository,
https://doi.org/10.24432/C50P49. Each image counts the "on" pixels of 4×4 blocks of a
32×32 bitmap, so intensities are integers 0–16. The course ships 1,617 of the 1,797
images (about 162 per class); the other 180, 18 per class, are held out by the grader
to test students' trained networks on images whose labels they cannot see.
Licence: Creative Commons Attribution 4.0 International (CC BY 4.0); cite
Alpaydin, E. & Kaynak, C. (1998), Optical Recognition of Handwritten Digits [Dataset],
UCI Machine Learning Repository. ``data/README.md`` tells how the file was made.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

DIGITS_SHA256 = "ac832990082e413a04e13469c24b604970ec1323829b4606b557d745f23bd188"
"""SHA-256 of ``images.tobytes() + labels.tobytes()`` (uint8, C order) in ``digits.npz``."""

N_DIGITS = 1617
IMAGE_SIDE = 8
MAX_INTENSITY = 16


def arrays_sha256(images: NDArray[Any], labels: NDArray[Any]) -> str:
    """SHA-256 hex digest of the bytes of ``images`` (N, 8, 8) followed by ``labels`` (N,)."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(images).tobytes())
    digest.update(np.ascontiguousarray(labels).tobytes())
    return digest.hexdigest()


def _read_verified(source: str | Path | IO[bytes]) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Read ``images`` (N, 8, 8) and ``labels`` (N,) from an npz and verify their checksum."""
    fix = "it is corrupt: reinstall the package to restore reference_impl/data/digits.npz"
    try:
        archive = np.load(source, allow_pickle=False)
    except (OSError, EOFError, ValueError) as exc:
        raise ValueError(f"digits file {source} is not an npz archive ({exc}); {fix}") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"digits file {source} holds a single array, not an npz archive; {fix}")
    with archive:
        missing = [name for name in ("images", "labels") if name not in archive.files]
        if missing:
            raise ValueError(f"digits file {source} lacks the array {missing[0]!r}; {fix}")
        images = archive["images"]
        labels = archive["labels"]
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise ValueError(
            f"digits file {source} holds images of dtype {images.dtype} and labels of dtype "
            f"{labels.dtype}, expected uint8 for both; it is corrupt: reinstall the package"
        )
    found = arrays_sha256(images, labels)
    if found != DIGITS_SHA256:
        raise ValueError(
            f"digits file {source} is corrupt: SHA-256 of its arrays is {found}, "
            f"expected {DIGITS_SHA256}; reinstall the package to restore digits.npz"
        )
    return images, labels


def load_digits(
    *, flatten: bool = True, scale: bool = True
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Digits as ``X`` (1617, 64) or (1617, 8, 8) float64 and labels ``y`` (1617,) in 0..9.

    ``scale=True`` divides the 0–16 intensities by 16 so that ``X`` lies in [0, 1];
    ``flatten=False`` keeps the images 8×8. Raises ValueError if the shipped file does
    not match its recorded SHA-256 (a corrupt or edited copy).
    """
    with resources.as_file(resources.files("reference_impl.data") / "digits.npz") as path:
        images, labels = _read_verified(path)
    X = images.astype(np.float64)
    if scale:
        X /= MAX_INTENSITY
    if flatten:
        X = X.reshape(len(X), IMAGE_SIDE * IMAGE_SIDE)
    return X, labels.astype(np.intp)
