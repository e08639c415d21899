"""What a check runs the student's answer on: cases, and the probe that runs it.

A ``Case`` is one input (positional and keyword arguments) with a label saying in words
what is special about it. A ``Probe`` names the function, on this side, that turns the
student's answer and a case into the value compared (``"common.call"`` calls a function
with the case's arguments; ``"nb06.linear_part"`` builds a layer and runs it). Probes
hold no reference implementation: the grader computes expected values by running the
same probe on its own reference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from autograder.checks import values


@dataclass(frozen=True)
class Case:
    """One input to a function check; ``label`` says in words what is special about it."""

    args: tuple[Any, ...]
    label: str = ""
    kwargs: dict[str, Any] = field(default_factory=dict)
    batch: int | None = None

    def encode(self, *, with_label: bool = True) -> dict[str, Any]:
        return {"args": values.encode(tuple(self.args)), "kwargs": values.encode(dict(self.kwargs)),
                "label": self.label if with_label else "", "batch": self.batch}

    @classmethod
    def decode(cls, data: dict[str, Any]) -> Case:
        args = values.decode(data["args"])
        kwargs = values.decode(data["kwargs"])
        if not isinstance(args, tuple) or not isinstance(kwargs, dict):
            raise ValueError("a case holds a tuple of arguments and a dict of keyword arguments")
        batch = data.get("batch")
        return cls(args, str(data.get("label", "")), kwargs, int(batch) if batch is not None else None)


@dataclass(frozen=True)
class Probe:
    """A probe by name, with the keyword arguments it is called with."""

    key: str = "common.call"
    params: dict[str, Any] = field(default_factory=dict)

    def resolve(self) -> Callable[[Any, Case], Any]:
        from autograder.checks.notebooks import lookup

        fn = lookup(self.key)
        return partial(fn, **self.params) if self.params else fn

    def encode(self) -> dict[str, Any]:
        return {"key": self.key, "params": values.encode(dict(self.params))}

    @classmethod
    def decode(cls, data: dict[str, Any]) -> Probe:
        return cls(str(data["key"]), values.decode(data["params"]))


def probe(key: str, **params: Any) -> Probe:
    return Probe(key, params)


CALL = Probe()
