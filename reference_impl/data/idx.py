"""Reading and writing the IDX format of MNIST; loading MNIST from files already on disk.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), then one big-endian uint32 per dimension, then the values in C order,
big-endian. Nothing here downloads anything: fetch the four MNIST files yourself and
point :func:`load_mnist` at their folder.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

IDX_TYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""Type code → big-endian dtype, as the IDX format defines them."""

_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed when they start with the gzip magic number."""
    if not path.is_file():
        raise FileNotFoundError(f"IDX file {path} does not exist")
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"IDX file {path} is a damaged gzip archive ({exc})") from exc
    return raw


def read_idx(path: str | Path) -> NDArray[Any]:
    """Array stored in the IDX file ``path`` (plain or gzip-compressed), in native byte order.

    Raises FileNotFoundError for a missing file and ValueError naming the file for a bad
    magic number, an unknown type code, a truncated header or data, or trailing bytes.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"IDX file {path} is truncated: {len(data)} bytes, the header needs 4")
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0:
        raise ValueError(
            f"IDX file {path} has bad magic bytes {data[:4].hex()}: an IDX file starts with "
            "two zero bytes; is it an image or a label file of MNIST?"
        )
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_TYPES)
        raise ValueError(f"IDX file {path} has unknown type code 0x{code:02X}; known: {known}")
    header_end = 4 + 4 * ndim
    if len(data) < header_end:
        raise ValueError(
            f"IDX file {path} is truncated: its header declares {ndim} dimensions "
            f"({header_end} bytes) but the file has {len(data)} bytes"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_end])
    dtype = IDX_TYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header_end
    if found < expected:
        raise ValueError(
            f"IDX file {path} is truncated: shape {shape} of {dtype.name} needs {expected} "
            f"data bytes, the file has {found}"
        )
    if found > expected:
        raise ValueError(
            f"IDX file {path} has a size mismatch: shape {shape} of {dtype.name} needs "
            f"{expected} data bytes, the file has {found} ({found - expected} extra)"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_end).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: Any) -> Path:
    """Write ``array`` (any shape, at most 255 dimensions) as IDX; gzip it if ``path`` ends in .gz.

    The dtype must be one IDX knows (uint8, int8, int16, int32, float32, float64);
    returns the path written.
    """
    path = Path(path)
    arr = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in IDX_TYPES.items()}
    native = arr.dtype.newbyteorder("=")
    if native not in codes:
        names = ", ".join(dt.name for dt in codes)
        raise TypeError(f"IDX cannot store dtype {arr.dtype}; convert the array to one of {names}")
    if arr.ndim > 255:
        raise ValueError(f"IDX stores at most 255 dimensions, got {arr.ndim}")
    code = codes[native]
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    payload = header + np.ascontiguousarray(arr, dtype=IDX_TYPES[code]).tobytes()
    if path.suffix == ".gz":
        payload = gzip.compress(payload)
    path.write_bytes(payload)
    return path


def _find(directory: Path, stem: str) -> Path:
    """The file ``stem`` or ``stem.gz`` in ``directory``; the error lists both names."""
    candidates = [directory / stem, directory / f"{stem}.gz"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    names = " or ".join(c.name for c in candidates)
    raise FileNotFoundError(
        f"no MNIST file in {directory}: looked for {names}. Nothing is downloaded; "
        "put the MNIST files in that folder yourself"
    )


def load_mnist(
    directory: str | Path,
    *,
    kind: Literal["train", "t10k"] = "train",
    flatten: bool = True,
    scale: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """MNIST images ``X`` (N, 784) or (N, 28, 28) float64 and labels ``y`` (N,) from ``directory``.

    Reads ``{kind}-images-idx3-ubyte`` and ``{kind}-labels-idx1-ubyte`` (each optionally
    ``.gz``); ``kind="train"`` gives N = 60,000, ``"t10k"`` N = 10,000. ``scale=True``
    divides the 0–255 intensities by 255.
    """
    if kind not in ("train", "t10k"):
        raise ValueError(f"kind must be 'train' or 't10k', got {kind!r}")
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"MNIST folder {directory} does not exist")
    image_path = _find(directory, f"{kind}-images-idx3-ubyte")
    label_path = _find(directory, f"{kind}-labels-idx1-ubyte")
    images = read_idx(image_path)
    labels = read_idx(label_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"{image_path} should hold uint8 images of shape (N, rows, cols), "
            f"got {images.dtype} of shape {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(
            f"{label_path} should hold uint8 labels of shape (N,), "
            f"got {labels.dtype} of shape {labels.shape}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"size mismatch: {image_path.name} has {len(images)} images but "
            f"{label_path.name} has {len(labels)} labels"
        )
    X = images.astype(np.float64)
    if scale:
        X /= 255.0
    if flatten:
        X = X.reshape(len(X), -1)
    return X, labels.astype(np.intp)
