"""Grade many notebooks at once, one worker process per core by default."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from autograder.grading.grade import Foreign, NotebookResult, grade_notebook
from autograder.sandbox.limits import Limits


@dataclass(frozen=True)
class Job:
    source: Path
    submission: Path
    student: str
    limits: Limits | None = None
    assignment: str | None = None  # default: the source's folder
    name: str | None = None  # the notebook's name in the gradebook; default: the assignment's
    foreign: Foreign | None = None  # a notebook of another nbgrader course


def _run(job: Job) -> NotebookResult:
    return grade_notebook(job.source, job.submission, student=job.student, limits=job.limits,
                          assignment=job.assignment, name=job.name, foreign=job.foreign)


def _die_with_parent(parent: int) -> None:
    """Pool initializer: a worker (and so its zygotes and sandboxes) ends when ``dlf`` does."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)


def grade_many(jobs: Sequence[Job], *, workers: int | None = None,
               on_done: Callable[[Job, NotebookResult], None] | None = None) -> list[NotebookResult]:
    """Results in the order of ``jobs``; ``on_done`` is called as each one finishes."""
    workers = max(1, workers or os.cpu_count() or 1)
    results: dict[int, NotebookResult] = {}
    if workers == 1 or len(jobs) <= 1:
        for i, job in enumerate(jobs):
            results[i] = _run(job)
            if on_done:
                on_done(job, results[i])
        return [results[i] for i in range(len(jobs))]
    # Workers run side by side: one BLAS thread each keeps them from fighting over cores.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    ctx = multiprocessing.get_context("spawn")
    # One assignment after another: each worker keeps one zygote warm per assignment's view.
    order = sorted(range(len(jobs)), key=lambda i: str(jobs[i].source))
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(_run, jobs[i]): i for i in order}
        for fut in as_completed(futures):
            i = futures[fut]
            results[i] = fut.result()
            if on_done:
                on_done(jobs[i], results[i])
    return [results[i] for i in range(len(jobs))]
