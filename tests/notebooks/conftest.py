"""Each notebook is executed once per session: its solution and its blank release.

All of them are graded together on first use, one worker per core.
"""

from __future__ import annotations

import pytest

from autograder.grading import NotebookResult
from autograder.grading.batch import Job, grade_many
from autograder.nb.course import Assignment, assignments

ASSIGNMENTS = assignments()
IDS = [a.name for a in ASSIGNMENTS]

_cache: dict[tuple[str, str], NotebookResult] = {}


def graded(assignment: Assignment, which: str) -> NotebookResult:
    if not _cache:
        keys = [(a.name, w) for a in ASSIGNMENTS for w in ("solution", "release")]
        jobs = [Job(a.source, a.source if w == "solution" else a.release, w)
                for a in ASSIGNMENTS for w in ("solution", "release")]
        _cache.update(zip(keys, grade_many(jobs), strict=True))
    return _cache[(assignment.name, which)]


@pytest.fixture(params=ASSIGNMENTS, ids=IDS)
def assignment(request: pytest.FixtureRequest) -> Assignment:
    return request.param
