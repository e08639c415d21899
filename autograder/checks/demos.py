"""``needs("unit")``: a demo cell that uses answers says, in one line, which to finish first.

Every demo or plot cell that uses an answer starts with ``needs(...)``, naming the answers
(functions, classes, values) and the earlier demo results it uses. Each name is judged from
what this kernel already knows, never from the answer key:

- the name is not defined yet (its cell has not run);
- it still holds what the release gave: ``None``, ``...`` or ``""`` for a number, a choice
  or a set of weights, or a function or class whose code still raises ``NotImplementedError``;
- a visible check has run on this very object in this session and did not pass.

Then the cell stops with ``NotReady``, which Jupyter shows as its one-line message
(``_render_traceback_``) instead of a traceback, and which ``dlf check`` reports as
"waits for". Otherwise the cell runs: an answer no check has seen yet gets the benefit of
the doubt.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from autograder.checks import judge

_MISSING = object()
# Objects a check has judged, by identity: id -> (the object, {check title: state}); the
# object is kept so that its id cannot be reused. States: "pass", "fail", "unanswered".
_judged: dict[int, tuple[Any, dict[str, str]]] = {}
_KEEP = 2000  # a long session (a test run of many notebooks) forgets the oldest verdicts
# Values that are not unique objects (None, small ints, interned strings): never recorded.
_SHARED = (type(None), bool, int, str, bytes, type(Ellipsis))


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


class NotReady(Exception):
    """A demo cell stopped before doing anything: an answer it uses is missing or broken."""

    def __init__(self, waiting: list[tuple[str, str]]) -> None:
        self.waiting = waiting
        by_reason: dict[str, list[str]] = {}
        for name, why in waiting:
            by_reason.setdefault(why, []).append(f"`{name}`")
        parts = [f"{_and(names)} ({why})" for why, names in by_reason.items()]
        it = "it" if len(waiting) == 1 else "them"
        super().__init__(f"this cell waits for {_and(parts)}: finish {it} (or run the cells "
                         "above), then run this cell again")

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback: the message, on one line."""
        return [f"⏸ {self}"]


def _state(message: str, passed: bool) -> str:
    if passed:
        return "pass"
    return "unanswered" if judge.is_unanswered(message) else "fail"


def record(answer: Any, check_title: str, message: str, passed: bool) -> None:
    """Remember what a visible check said of ``answer`` (and of each part of a tuple answer)."""
    parts = list(answer) if isinstance(answer, (tuple, list)) else []
    for obj in [answer, *parts]:
        if isinstance(obj, _SHARED):
            continue
        entry = _judged.setdefault(id(obj), (obj, {}))
        if entry[0] is not obj:  # an id reused after the object was dropped: start afresh
            entry = _judged[id(obj)] = (obj, {})
        entry[1][check_title] = _state(message, passed)
    while len(_judged) > _KEEP:
        del _judged[next(iter(_judged))]


def _stub_of(code: types.CodeType) -> bool:
    """Does this code (or code nested in it) still raise the release's NotImplementedError?"""
    if "NotImplementedError" in code.co_names:
        return True
    return any(isinstance(c, types.CodeType) and _stub_of(c) for c in code.co_consts)


def _unwritten(obj: Any) -> str:
    """Why ``obj`` is still what the release gave, or "" if it looks written."""
    if obj is None or obj is Ellipsis:
        return f"still {obj!r}"
    if isinstance(obj, str) and not obj.strip():
        return "still empty"
    code = getattr(obj, "__code__", None)
    if isinstance(code, types.CodeType) and _stub_of(code):
        return "not written yet"
    if isinstance(obj, type):
        for name, member in vars(obj).items():
            code = getattr(member, "__code__", None)
            if isinstance(code, types.CodeType) and _stub_of(code):
                return f"{name} not written yet"
    return ""


def _why_not_ready(name: str, namespace: dict[str, Any]) -> str:
    obj = namespace.get(name, _MISSING)
    if obj is _MISSING:
        return "not defined yet"
    judged = _judged.get(id(obj))
    if judged is not None and judged[0] is obj:
        states = judged[1]
        unanswered = [t for t, s in states.items() if s == "unanswered"]
        failing = [t for t, s in states.items() if s == "fail"]
        if unanswered:
            return "not written yet"
        if failing:
            return f"its check fails: {failing[0]}"
        return ""
    return _unwritten(obj)


def needs(*names: str, namespace: dict[str, Any] | None = None) -> None:
    """Stop this cell with a one-line ``NotReady`` unless every name in ``names`` is ready.

    ``names`` are the answers (and earlier results) the cell uses, as they are spelt in the
    notebook; ``namespace`` defaults to the calling cell's globals.
    """
    ns = namespace if namespace is not None else sys._getframe(1).f_globals
    waiting = [(name, why) for name in names if (why := _why_not_ready(name, ns))]
    if waiting:
        raise NotReady(waiting)


def forget() -> None:
    """Drop every remembered verdict (a new session, or a test)."""
    _judged.clear()
