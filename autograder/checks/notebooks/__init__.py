"""What each notebook's checks need on the student's side, one module per notebook.

``nbNN`` holds the probes that run notebook NN's answers, the functions and small
objects its cases hand to student code, and the checks of results that need no answer
key (a dropout mask's statistics, the XOR margins). ``common`` holds what every notebook
uses. Nothing here implements an exercise: a notebook's sandbox holds only ``common``
and its own module.
"""

from __future__ import annotations

import importlib
from typing import Any


def lookup(key: str) -> Any:
    """The object registered as ``key`` (``"nb01.sigmoid"``, ``"common.call"``)."""
    module_name, _, name = key.partition(".")
    if not name or not module_name.isidentifier() or not name.isidentifier():
        raise ValueError(f"a registered name looks like 'nb01.sigmoid', got {key!r}")
    try:
        module = importlib.import_module(f"autograder.checks.notebooks.{module_name}")
    except ModuleNotFoundError:
        raise KeyError(f"no student-side module {module_name!r} for {key!r}") from None
    registry = getattr(module, "REGISTRY", {})
    if name not in registry:
        raise KeyError(f"{key!r} is not registered in autograder.checks.notebooks.{module_name}")
    return registry[name]
