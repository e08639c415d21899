"""Values in and out of the student's process as plain JSON: never as code.

Arrays travel as ``.npy`` bytes loaded with ``allow_pickle=False``; a function or a case
object given to student code travels by name (``{"fn": "nb01.sigmoid"}``) and is looked up
in the student side's own registry (``autograder.checks.notebooks``); a random generator
travels as its bit generator's state. Decoding what a student's process wrote
(``plain=True``) accepts numbers, strings, arrays and tuples only.
"""

from __future__ import annotations

import base64
import dataclasses
import io
from typing import Any

import numpy

_save = numpy.save
_load = numpy.load
_b64encode = base64.b64encode
_b64decode = base64.b64decode


class Named:
    """A function given to student code; it prints by name in messages.

    ``key`` is where the student side finds it again (``"nb01.sigmoid"``), ``name`` what
    a student reads (``"sigmoid"``).
    """

    def __init__(self, key: str, name: str, fn: Any) -> None:
        self.key = key
        self.name = name
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return self.name

    def __deepcopy__(self, memo: dict[int, Any]) -> Named:
        return self


def _array(value: numpy.ndarray) -> dict[str, str]:
    buf = io.BytesIO()
    _save(buf, numpy.asarray(value, order="C"), allow_pickle=False)
    return {"npy": _b64encode(buf.getvalue()).decode("ascii")}


def encode(value: Any) -> Any:
    """A JSON-able form of ``value``; raises ``TypeError`` for anything else."""
    if isinstance(value, numpy.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"cannot send an array of dtype {value.dtype}")
        return _array(value)
    if isinstance(value, numpy.generic):
        return {"scalar": _array(numpy.asarray(value))["npy"]}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return {"list": [encode(v) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("only dicts with string keys can be sent")
        return {"dict": {k: encode(v) for k, v in value.items()}}
    if isinstance(value, Named):
        return {"fn": value.key}
    if isinstance(value, numpy.random.Generator):
        state = value.bit_generator.state
        if state.get("bit_generator") != "PCG64":
            raise TypeError(f"cannot send a {state.get('bit_generator')} generator")
        return {"rng": state}
    key = getattr(type(value), "dlf_key", None)
    if key is not None and dataclasses.is_dataclass(value):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"obj": key, "fields": fields}
    raise TypeError(f"cannot send a {type(value).__name__}")


def _load_array(text: str) -> numpy.ndarray:
    arr = _load(io.BytesIO(_b64decode(text)), allow_pickle=False)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"refusing an array of dtype {arr.dtype}")
    return arr


def decode(data: Any, *, plain: bool = False) -> Any:
    """The value ``encode`` made; with ``plain`` only numbers, strings, arrays and tuples."""
    if data is None or isinstance(data, (bool, int, str)):
        return data
    if isinstance(data, list):
        raise ValueError("a bare list in a record")
    if not isinstance(data, dict) or not data:
        raise ValueError(f"unexpected {type(data).__name__} in a record")
    tag = "obj" if "obj" in data else next(iter(data))
    body = data[tag]
    if tag == "npy":
        return _load_array(body)
    if tag == "scalar":
        return _load_array(body)[()]
    if tag == "float":
        return float(body)
    if tag == "tuple":
        return tuple(decode(v, plain=plain) for v in body)
    if plain:
        raise ValueError(f"a {tag!r} value where only plain values are accepted")
    if tag == "list":
        return [decode(v) for v in body]
    if tag == "dict":
        return {str(k): decode(v) for k, v in body.items()}
    if tag == "fn":
        from autograder.checks.notebooks import lookup

        return lookup(str(body))
    if tag == "rng":
        gen = numpy.random.Generator(numpy.random.PCG64())
        gen.bit_generator.state = body
        return gen
    if tag == "obj":
        from autograder.checks.notebooks import lookup

        cls = lookup(str(body))
        return cls(**{k: decode(v) for k, v in data["fields"].items()})
    raise ValueError(f"unknown value tag {tag!r}")
