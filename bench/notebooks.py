"""Seconds each solution notebook takes through the course grader, against the 30 s budget.

Run ``python -m bench.notebooks`` (``--help`` for options). Each source notebook is graded
as its own submission (``grade_notebook(source, source)``), one at a time, ``--repeats``
times; the best wall time is kept, since interference from other processes only ever adds
time. The load average at the start is printed beside the CPU count: when it exceeds the
CPU count the machine was shared and the figures are inflated. This is a measurement,
not a test: it prints a table and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from autograder.grading.grade import grade_notebook
from autograder.nb.course import Assignment, assignments

BUDGET_SECONDS = 30.0


@dataclass
class Timing:
    """Best wall seconds of one notebook through the grader, and its autograded score."""

    name: str
    seconds: float
    score: float
    max_score: float

    @property
    def within(self) -> bool:
        return self.seconds <= BUDGET_SECONDS


def usable_cpus() -> int:
    """Cores this process may run on (the affinity mask), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def describe_load() -> list[str]:
    """Lines naming the CPU count and the load average, with a warning when the load is high."""
    cpus = usable_cpus()
    one, five, fifteen = os.getloadavg()
    lines = [f"CPUs {cpus}; load average {one:.2f} (1 min), {five:.2f} (5 min), "
             f"{fifteen:.2f} (15 min) at start"]
    if one > cpus:
        lines.append(f"WARNING: load average {one:.2f} exceeds the {cpus} CPUs: the machine is "
                     "(or just was) shared, so the times below are likely inflated")
    return lines


def time_notebook(assignment: Assignment, repeats: int) -> Timing:
    """Grade the solution against itself ``repeats`` times; keep the fastest wall time."""
    best = float("inf")
    score = max_score = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        result = grade_notebook(assignment.source, assignment.source, student="key")
        best = min(best, time.perf_counter() - start)
        auto = [i for i in result.items if i.kind == "autograded"]
        score = sum(i.points or 0.0 for i in auto)
        max_score = sum(i.max_points for i in auto)
    return Timing(assignment.name, best, score, max_score)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.notebooks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2, help="gradings per notebook (best kept)")
    parser.add_argument("--assignments", nargs="*", metavar="NAME",
                        help="only these notebooks (default: every one under solutions/)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")

    chosen = [a for a in assignments() if not args.assignments or a.name in args.assignments]
    if not chosen:
        parser.error("no notebook matches --assignments; see the folder names under solutions/")
    print(f"Each solution notebook graded against itself, one at a time, best of {args.repeats}")
    for line in describe_load():
        print(line)
    print()
    print(f"{'notebook':<28} {'seconds':>8} {'budget':>7} {'within?':>8} {'autograded':>11}")
    timings = []
    for assignment in chosen:
        t = time_notebook(assignment, args.repeats)
        timings.append(t)
        print(f"{t.name:<28} {t.seconds:>8.2f} {BUDGET_SECONDS:>7.0f} "
              f"{'yes' if t.within else 'NO':>8} {t.score:>6g}/{t.max_score:<4g}", flush=True)
    total = sum(t.seconds for t in timings)
    over = [t.name for t in timings if not t.within]
    print()
    print(f"total {total:.2f} s for {len(timings)} notebooks; "
          + (f"over budget: {', '.join(over)}" if over else "all within budget"))
    short = [t.name for t in timings if t.score < t.max_score]
    if short:
        print(f"the solution lost autograded points in: {', '.join(short)}")
    one, _, _ = os.getloadavg()
    print(f"load average {one:.2f} (1 min) at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
