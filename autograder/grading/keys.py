"""Where the grader meets the answer key: the view, the hidden inputs, the verdicts.

Grader side. The sandbox plumbing calls only these three functions:

- ``view_dir(assignment)``: the notebook's student build (``autograder.nb.views``), the
  only course code its sandbox can import (its zygote's ``sys.path`` starts there);
- ``hidden_inputs_blob(assignment)``: the inputs of the hidden cases its test cells
  call, handed to the sandbox's check library (``autograder.checks.channel.hidden_blob``);
  never their labels or expected values;
- ``evaluate_record(check_id, hidden, observations)``: the verdict on one record,
  decided here from the grader's own references.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from nbformat import NotebookNode

from autograder.checks.judge import Verdict
from autograder.checks.observe import Observation
from autograder.nb.course import assignments, check_calls, is_test
from autograder.nb.views import bare_view, view_for
from autograder.specs import registry
from autograder.specs.export import hidden_blob


@functools.cache
def view_dir(assignment_name: str) -> Path:
    """The folder holding the course code the sandbox of ``assignment_name`` may import:
    the notebook's student build, or the bare check library for a notebook of no course."""
    known = {a.name for a in assignments()}
    if assignment_name in known:
        return view_for(assignment_name).path
    return bare_view().path


@functools.cache
def bare_view_dir() -> Path:
    """The bare check library: the only course code in the sandbox of another course's notebook."""
    return bare_view().path


def hidden_inputs_blob(source: NotebookNode) -> bytes:
    """The inputs of the hidden cases the source notebook's test cells check."""
    ids = tuple(sorted({call.check_id for cell in source.cells if is_test(cell)
                        for call in check_calls(cell.source) if call.hidden}))
    return _blob(ids) if ids else b""


@functools.cache
def _blob(ids: tuple[str, ...]) -> bytes:
    return hidden_blob(ids)


def evaluate_record(check_id: str, hidden: bool,
                    observations: Sequence[Observation]) -> Verdict:
    """The verdict on one record a test cell wrote: decided here, in the grader's process."""
    return registry.get(check_id).evaluate(list(observations), hidden=hidden)
