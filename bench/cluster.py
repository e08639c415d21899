"""The same class graded by this machine's pool and by a local two-worker Dask cluster, in one run.

Run ``python -m bench cluster`` (``--help`` for options).

1. A sample class (``sample_class.generate``) is written into a temporary workspace; its
   gradebook is created untimed.
2. Each repeat grades it twice, everything again (``force``), the order alternating:
   ``dlf grade --workers W`` (this machine's pool, W processes) and ``dlf grade --scheduler``
   on a local cluster of W one-thread worker processes (``dlf cluster-local``), started
   afresh and untimed, so its workers start their sandboxes' zygotes during the run as the
   pool's do. Both runs include reading the submissions and writing the gradebook and
   ``autograded/``. The pool also starts its processes within the run (a Python with the
   grader imported, about a CPU second each), where the cluster's workers are up already
   and import only the grader: a fixed cost of a few seconds a run that favours the
   cluster on a small class and vanishes over a term.
3. Figures, the median over the repeats: notebooks per second each way and their ratio;
   the per-notebook cost of going through Dask, ``c = (T_dask - T_pool) * W / n`` of each
   repeat, whose two runs are back to back (the worker-seconds each notebook costs more;
   negative when Dask is quicker; every repeat's is shown, as the noise to read it
   against); the CPU seconds
   per notebook of every process taking part, each way (client, scheduler, pool processes
   or Dask workers, zygotes and sandboxes), whose difference is Dask's own work and hardly
   moves with the load of a shared machine; the client's own time per result (gradebook
   row and ``result.json``), ``w``.
4. A term of S students x K notebooks on N workers, extrapolated with the model
   ``wall(N) = max(S*K*(t + c)/N, S*K*w)``, where ``t = T_pool * W / n`` is the measured
   worker-seconds per notebook of this class on this machine: workers share the notebooks
   evenly, the scheduler is never the bottleneck, and the client, which writes every
   result, bounds the rate from below. ``t`` is this class's mix (two of the course's
   fastest notebooks, a few hostile submissions that run into the cell timeout); scale it
   by ``python -m bench notebooks`` for the other notebooks.

Targets (issue 13): ``c`` at most 50 ms, and the cluster's throughput at least 90 % of
the pool's. This is a measurement, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.cluster.local import start
from autograder.instructor import grade_all, gradebook, sample_class
from autograder.instructor.grade_all import grade_workspace
from autograder.instructor.workspace import Workspace
from autograder.nb.course import assignments
from autograder.sandbox.limits import Limits
from bench.notebooks import describe_load

FAST_ASSIGNMENTS = ["01_unit_to_network", "04_costs"]
TARGET_COST = 0.050
TARGET_RATIO = 0.90


@dataclass
class Repeat:
    pool: float  # wall seconds, this machine's pool
    dask: float  # wall seconds, the local cluster
    client_pool: float  # seconds the client spent recording results
    client_dask: float
    cpu_pool: float  # CPU seconds of every process that took part, sandboxes included
    cpu_dask: float


def _cpu(times: Any) -> float:
    return float(times.user + times.system + getattr(times, "children_user", 0.0)
                 + getattr(times, "children_system", 0.0))


class CpuClock:
    """CPU seconds spent by this process (client, and a local cluster's scheduler), by the
    children it reaps (the pool's processes), and by the live processes under it (a local
    cluster's nannies, workers and their zygotes, whose own reaped children, the
    sandboxes, count in their children's times) between ``start`` and ``stop``."""

    def __init__(self) -> None:
        import psutil

        self.me = psutil.Process()
        self.before: dict[int, float] = {}
        self.seconds = 0.0

    def _tree(self) -> dict[int, float]:
        import psutil

        out = {}
        for proc in self.me.children(recursive=True):
            try:
                out[proc.pid] = _cpu(proc.cpu_times())
            except psutil.Error:
                continue
        return out

    def _own(self) -> float:
        import resource

        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def start(self) -> None:
        self.before = self._tree()
        self.seconds = -self._own()

    def stop(self) -> float:
        after = self._tree()
        self.seconds += self._own() + sum(t - self.before.get(pid, 0.0) for pid, t in after.items())
        return self.seconds


class ClientClock:
    """Adds up the time ``dlf grade`` spends recording results: gradebook rows and result.json."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._saved: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> ClientClock:
        for owner, name in ((gradebook.GradebookWriter, "record_many"), (grade_all, "_store")):
            real = getattr(owner, name)
            self._saved.append((owner, name, real))
            setattr(owner, name, self._timed(real))
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, real in self._saved:
            setattr(owner, name, real)

    def _timed(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
        return timed


def grade_pool(ws: Workspace, names: list[str], workers: int,
               limits: Limits) -> tuple[float, float, float]:
    """Wall seconds, the client's recording seconds and CPU seconds of one pool run."""
    cpu = CpuClock()
    with ClientClock() as clock:
        cpu.start()
        start_at = time.perf_counter()
        grade_workspace(ws, assignments=names, workers=workers, limits=limits, force=True,
                        show_progress=False)
        seconds = time.perf_counter() - start_at
        return seconds, clock.seconds, cpu.stop()


def grade_dask(ws: Workspace, names: list[str], workers: int,
               limits: Limits) -> tuple[float, float, float]:
    """The same for one run on a fresh local cluster (started and stopped untimed)."""
    cluster = start(workers=workers)
    cpu = CpuClock()
    try:
        with ClientClock() as clock:
            cpu.start()
            start_at = time.perf_counter()
            summary = grade_workspace(ws, assignments=names, limits=limits, force=True,
                                      show_progress=False, scheduler=cluster.scheduler_address)
            seconds = time.perf_counter() - start_at
            used = cpu.stop()
        if summary.refused or summary.refused_workers:
            print("  WARNING:", *summary.refused, *summary.refused_workers, sep="\n    ")
        return seconds, clock.seconds, used
    finally:
        cluster.close(timeout=30)


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench cluster", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=20, help="class size (at least 10)")
    parser.add_argument("--assignments", nargs="+", default=FAST_ASSIGNMENTS, metavar="NAME")
    parser.add_argument("--workers", type=int, default=2, help="pool processes = cluster workers (2)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each; medians are shown (3)")
    parser.add_argument("--cell-timeout", type=float, default=3.0,
                        help="seconds a cell may run (default 3: the looping student's cost)")
    parser.add_argument("--term-students", type=int, default=5000)
    parser.add_argument("--term-notebooks", type=int, default=7)
    parser.add_argument("--term-workers", type=int, nargs="+", default=[2, 16, 64, 256])
    args = parser.parse_args(argv)
    if args.students < 10:
        parser.error(f"--students must be at least 10, got {args.students}")
    if args.workers < 1 or args.repeats < 1:
        parser.error("--workers and --repeats must be at least 1")
    released = [a.name for a in assignments() if a.release.exists()]
    if unknown := sorted(set(args.assignments) - set(released)):
        parser.error(f"no student release for {unknown}; released: {', '.join(released)}")

    names: list[str] = args.assignments
    limits = Limits(cell_timeout=args.cell_timeout)
    w = args.workers
    print(f"Sample class: {args.students} students x {', '.join(names)}; {w} pool processes "
          f"against {w} one-thread Dask workers; cell timeout {args.cell_timeout:g} s")
    for line in describe_load():
        print(line)
    runs: list[Repeat] = []
    with tempfile.TemporaryDirectory(prefix="dlf-bench-cluster-") as tmp:
        ws = Workspace(Path(tmp) / "class")
        sample_class.generate(ws, n_students=args.students, names=names)
        n = len(ws.submissions(names))
        gradebook.register_assignments(ws, names)
        print(f"{n} notebooks")
        for i in range(args.repeats):
            order = ("pool", "dask") if i % 2 == 0 else ("dask", "pool")
            got: dict[str, tuple[float, float, float]] = {}
            for way in order:
                got[way] = (grade_pool if way == "pool" else grade_dask)(ws, names, w, limits)
            run = Repeat(got["pool"][0], got["dask"][0], got["pool"][1], got["dask"][1],
                         got["pool"][2], got["dask"][2])
            runs.append(run)
            print(f"  repeat {i + 1}: pool {run.pool:.1f} s ({n / run.pool:.2f} nb/s, "
                  f"{run.cpu_pool:.0f} CPU s), Dask {run.dask:.1f} s ({n / run.dask:.2f} nb/s, "
                  f"{run.cpu_dask:.0f} CPU s), load {os.getloadavg()[0]:.2f}", flush=True)

    pool = statistics.median(r.pool for r in runs)
    dask = statistics.median(r.dask for r in runs)
    # Paired: a repeat's two runs are back to back, under the same load.
    cost = statistics.median((r.dask - r.pool) * w / n for r in runs)
    client = statistics.median(r.client_dask / n for r in runs)
    t = pool * w / n
    print()
    print(f"medians of {len(runs)} repeats, {n} notebooks each:")
    print(f"  this machine's pool, {w} processes: {pool:6.1f} s  {n / pool:6.2f} notebooks/s")
    print(f"  local Dask cluster, {w} workers:    {dask:6.1f} s  {n / dask:6.2f} notebooks/s")
    ratio = pool / dask
    print(f"  Dask throughput / pool throughput: {ratio:.0%}  (target at least {TARGET_RATIO:.0%}: "
          f"{'met' if ratio >= TARGET_RATIO else 'NOT met'})")
    spread = [f"{(r.dask - r.pool) * w / n * 1000:+.0f}" for r in runs]
    print(f"  per-notebook cost of going through Dask, median of (T_dask - T_pool) x {w} / {n}: "
          f"{cost * 1000:+.0f} ms  (target at most {TARGET_COST * 1000:.0f} ms: "
          f"{'met' if cost <= TARGET_COST else 'NOT met'}); repeat by repeat: {', '.join(spread)} ms")
    cpu_cost = statistics.median((r.cpu_dask - r.cpu_pool) / n for r in runs)
    print(f"  CPU seconds per notebook, every process counted: pool "
          f"{statistics.median(r.cpu_pool for r in runs) / n * 1000:.0f} ms, Dask "
          f"{statistics.median(r.cpu_dask for r in runs) / n * 1000:.0f} ms; Dask's extra CPU "
          f"per notebook {cpu_cost * 1000:+.0f} ms (less sensitive to a shared machine's load "
          "than wall time)")
    print(f"  worker-seconds per notebook on the pool, t: {t:.2f} s; the client's time per result "
          f"(gradebook row and result.json), w: {client * 1000:.0f} ms")
    term = args.term_students * args.term_notebooks
    print()
    print(f"a term of {args.term_students} students x {args.term_notebooks} notebooks = {term} "
          "notebooks, wall(N) = max(notebooks x (t + c) / N, notebooks x w):")
    for workers in args.term_workers:
        wall = max(term * (t + max(cost, 0.0)) / workers, term * client)
        bound = " (the client's writing bounds it)" if term * client >= term * (t + cost) / workers \
            else ""
        print(f"  {workers:>4} workers: {hours(wall)}{bound}")
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
