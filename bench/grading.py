"""The same sample class graded by `dlf` and by stock `nbgrader autograde`, in one run.

Run ``python -m bench.grading`` (``--help`` for options; ``--quick`` for a short run).

1. A sample class (``sample_class.generate``) is written into a temporary workspace.
2. ``dlf`` grades it with one worker per CPU, then again with one worker: wall time and
   notebooks per second for each, and the speed-up.
3. Stock nbgrader grades the same submissions in a temporary course whose
   ``nbgrader_config.py`` loads ``course/nbgrader_config.py`` and points root, submitted,
   autograded and the gradebook into the temporary folder: ``nbgrader generate_assignment``
   registers each assignment, then ``nbgrader autograde <assignment> --force`` runs.
4. Every autograded item of every non-hostile submission is compared: dlf's points
   against the ``auto_score`` in nbgrader's gradebook. Disagreements are listed.
5. Per-notebook overhead: a notebook of trivial cells graded many times by each grader,
   wall time divided by the number of notebooks.

Both graders stop a cell after ``--cell-timeout`` seconds (the course config allows 120 s),
so the looping and filesystem-walking hostile submissions cost both the same bounded
time. This is a measurement, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder.grading import NotebookResult
from autograder.instructor import gradebook, sample_class
from autograder.instructor.grade_all import grade_workspace
from autograder.instructor.workspace import Workspace
from autograder.nb.course import ROOT, assignments, ensure_tools_on_path, fast_gradebook, nbgrader_meta
from autograder.sandbox.limits import Limits
from bench.notebooks import describe_load, usable_cpus

# The two released notebooks that `python -m bench notebooks` finds fastest.
FAST_ASSIGNMENTS = ["01_unit_to_network", "04_costs"]
HOSTILE_KINDS = frozenset({*sample_class.HOSTILE, "malformed", "deleted-tests"})
TRIVIAL = "trivial"
TRIVIAL_CELLS = 30
FAILED = re.compile(r"error processing assignment '(?P<assignment>[^']+)' "
                    r"for student '(?P<student>[^']+)'")

STOCK_CONFIG = """\
c = get_config()  # noqa: F821
load_subconfig({course_config!r})  # noqa: F821
c.CourseDirectory.root = {root!r}
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = {db_url!r}
c.ExecutePreprocessor.timeout = {timeout}
c.Execute.timeout = {timeout}
"""


@dataclass
class Run:
    """Wall seconds one grader took for some number of notebooks."""

    label: str
    notebooks: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.notebooks / self.seconds if self.seconds > 0 else float("nan")


@dataclass
class Disagreement:
    student: str
    assignment: str
    grade_id: str
    dlf: float | None
    stock: float | None
    dlf_says: str
    stock_says: str


def build_class(path: Path, n_students: int, names: list[str]) -> tuple[Workspace, list[sample_class.Student]]:
    """Write the sample class into ``path/submitted``; return the workspace and the roster."""
    ws = Workspace(path)
    return ws, sample_class.generate(ws, n_students=n_students, names=names)


def grade_with_dlf(ws: Workspace, names: list[str], workers: int,
                   limits: Limits) -> tuple[Run, list[NotebookResult]]:
    """Grade every submission again (``force``) and time the whole call."""
    start = time.perf_counter()
    summary = grade_workspace(ws, assignments=names, workers=workers, limits=limits, force=True,
                              show_progress=False)
    run = Run(f"dlf, {workers} worker{'s' if workers > 1 else ''}", summary.graded,
              time.perf_counter() - start)
    return run, summary.results


def _env() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}


def nbgrader(args: list[str], cwd: Path, on_line: Callable[[str], None] | None = None) -> tuple[int, list[str]]:
    """Run ``nbgrader <args>`` in ``cwd`` with this Python's tools first on PATH; its exit code and log."""
    exe = str(Path(sys.executable).parent / "nbgrader")
    proc = subprocess.Popen([exe, *args], cwd=cwd, env=_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    log: list[str] = []
    for line in proc.stdout or []:
        log.append(line.rstrip("\n"))
        if on_line:
            on_line(line)
    return proc.wait(), log


def stock_course(path: Path, names: list[str], *, cell_timeout: int, sources: Path) -> Path:
    """A throw-away nbgrader course in ``path`` with ``sources/<name>/`` registered as assignments.

    Registration is nbgrader's own generate_assignment, called through its API as ``dlf
    release`` does: the same work as the command without a second Python start-up.
    """
    ensure_tools_on_path()
    fast_gradebook()
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    path.mkdir(parents=True, exist_ok=True)
    (path / "nbgrader_config.py").write_text(STOCK_CONFIG.format(
        course_config=str(ROOT / "course" / "nbgrader_config.py"), root=str(path.resolve()),
        db_url=f"sqlite:///{(path / 'gradebook.db').resolve()}", timeout=cell_timeout))
    config = PyFileConfigLoader("nbgrader_config.py", path=str(path)).load_config()
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    for name in names:
        shutil.copytree(sources / name, path / "solutions" / name, dirs_exist_ok=True)
        result = api.generate_assignment(name, force=True, create=True)
        if not result.get("success"):
            raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n"
                               f"{result.get('error') or result.get('log')}")
    return path


@dataclass
class StockRun:
    """One ``nbgrader autograde`` per assignment: the timing, its start-up share and its log."""

    run: Run
    startup: float
    graded: int
    failed: list[tuple[str, str]]  # (student, assignment) nbgrader reported an error for
    tail: list[str]

    @property
    def per_notebook_after_startup(self) -> float:
        return (self.run.seconds - self.startup) / max(1, self.run.notebooks)


def autograde_stock(course: Path, names: list[str], counts: dict[str, int], *,
                    verbose: bool = True) -> StockRun:
    """``nbgrader autograde <name> --force`` for each assignment, timed, with progress lines.

    Start-up is the time from launching the command to its first submission.
    """
    total = sum(counts.values())
    seen = 0
    failed: list[tuple[str, str]] = []
    startup = 0.0
    start = launched = time.perf_counter()
    first_seen = False

    def progress(line: str) -> None:
        nonlocal seen, startup, first_seen
        if match := FAILED.search(line):
            failed.append((match["student"], match["assignment"]))
        if "Creating/updating student" in line and not first_seen:
            first_seen = True
            startup += time.perf_counter() - launched
        if "Autograding " in line:
            seen += 1
            if verbose and (seen % 10 == 0 or seen == total):
                print(f"  nbgrader: {seen}/{total} notebooks, {time.perf_counter() - start:.0f} s",
                      flush=True)

    tail: list[str] = []
    for name in names:
        launched, first_seen = time.perf_counter(), False
        _, log = nbgrader(["autograde", name, "--force"], course, progress)
        tail = log[-15:]
    return StockRun(Run("nbgrader autograde", total, time.perf_counter() - start), startup, seen,
                    failed, tail)


def stock_scores(course: Path, names: list[str]) -> dict[tuple[str, str, str], float | None]:
    """``auto_score`` of every grade cell in the stock gradebook, by (student, assignment, grade id)."""
    ensure_tools_on_path()
    fast_gradebook()
    from nbgrader.api import Gradebook

    out: dict[tuple[str, str, str], float | None] = {}
    with Gradebook(f"sqlite:///{(course / 'gradebook.db').resolve()}") as gb:
        for name in names:
            for sub in gb.assignment_submissions(name):
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        out[(sub.student.id, name, grade.name)] = grade.auto_score
    return out


def _stock_error(course: Path, student: str, assignment: str, grade_id: str) -> str:
    """The error nbgrader recorded in the autograded notebook's cell ``grade_id``, if any."""
    path = course / "autograded" / student / assignment / f"{assignment}.ipynb"
    try:
        nb = nbformat.read(str(path), as_version=4)
    except (OSError, ValueError):
        return "no autograded notebook"
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    return f"{out.get('ename')}: {str(out.get('evalue', ''))[:200]}"
            return "no error"
    return "cell not found"


def hostile_totals(results: list[NotebookResult], stock: dict[tuple[str, str, str], float | None],
                   roster: list[sample_class.Student]) -> list[tuple[str, str, str, float, float]]:
    """(student, kind, assignment, dlf points, nbgrader points) of each hostile submission."""
    kinds = {s.name: s.kind for s in roster}
    out = []
    for r in results:
        if kinds.get(r.student, "regular") in HOSTILE_KINDS:
            theirs = sum(stock.get((r.student, r.assignment, i.grade_id)) or 0.0 for i in r.items)
            out.append((r.student, kinds[r.student], r.assignment, r.score, theirs))
    return out


def compare(results: list[NotebookResult], stock: dict[tuple[str, str, str], float | None],
            roster: list[sample_class.Student], course: Path) -> tuple[int, list[Disagreement]]:
    """Compare every autograded item of the non-hostile submissions; (items compared, disagreements)."""
    kinds = {s.name: s.kind for s in roster}
    compared = 0
    differ: list[Disagreement] = []
    for result in results:
        if kinds.get(result.student, "regular") in HOSTILE_KINDS:
            continue
        for item in result.items:
            if item.kind != "autograded":
                continue
            compared += 1
            theirs = stock.get((result.student, result.assignment, item.grade_id))
            if theirs is not None and item.points is not None and abs(theirs - item.points) < 1e-9:
                continue
            differ.append(Disagreement(
                result.student, result.assignment, item.grade_id, item.points, theirs,
                " | ".join(item.messages)[:300] or "no message",
                _stock_error(course, result.student, result.assignment, item.grade_id)))
    return compared, differ


def trivial_notebook() -> NotebookNode:
    """``TRIVIAL_CELLS`` cells of ``x = 1`` and one 1-point test cell, ``assert x == 1``."""
    def meta(grade_id: str, grade: bool) -> dict[str, object]:
        return {"nbgrader": {"grade": grade, "grade_id": grade_id, "locked": True,
                             "schema_version": 3, "solution": False, "task": False,
                             **({"points": 1} if grade else {})}}

    cells = [nbformat.v4.new_code_cell("x = 1", metadata=meta(f"c{i}", False))
             for i in range(TRIVIAL_CELLS)]
    cells.append(nbformat.v4.new_code_cell("assert x == 1", metadata=meta("test_x", True)))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _write_trivial(root: Path) -> Path:
    folder = root / "solutions" / TRIVIAL
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{TRIVIAL}.ipynb"
    nbformat.write(trivial_notebook(), str(path))
    return path


def _hand_in(submitted: Path, source: Path, n: int) -> None:
    for i in range(n):
        folder = submitted / f"t{i:03d}" / TRIVIAL
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, folder / f"{TRIVIAL}.ipynb")


def overhead_dlf(path: Path, n: int, limits: Limits) -> tuple[float, float]:
    """Seconds per notebook when dlf grades ``n`` trivial notebooks with one worker, and points.

    The gradebook is created before the clock starts, as for the class.
    """
    root = path / "course-root"
    source = _write_trivial(root)
    (root / "course").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "course" / "nbgrader_config.py", root / "course" / "nbgrader_config.py")
    ws = Workspace(path / "workspace", root=root)
    _hand_in(ws.submitted, source, n)
    gradebook.register_assignments(ws, [TRIVIAL])
    start = time.perf_counter()
    summary = grade_workspace(ws, workers=1, limits=limits, force=True, show_progress=False)
    return (time.perf_counter() - start) / n, sum(r.score for r in summary.results)


def overhead_stock(path: Path, n: int, cell_timeout: int) -> tuple[StockRun, float]:
    """One ``nbgrader autograde`` of ``n`` trivial notebooks, and the points they got."""
    source = _write_trivial(path / "sources")
    course = stock_course(path / "course", [TRIVIAL], cell_timeout=cell_timeout,
                          sources=path / "sources" / "solutions")
    _hand_in(course / "submitted", source, n)
    run = autograde_stock(course, [TRIVIAL], {TRIVIAL: n}, verbose=False)
    return run, sum(v or 0.0 for v in stock_scores(course, [TRIVIAL]).values())


@dataclass
class Figures:
    cpus: int
    parallel: Run
    serial: Run
    stock: StockRun
    compared: int
    differ: list[Disagreement]
    hostile: list[tuple[str, str, str, float, float]]
    dlf_each: float
    dlf_notebooks: int
    stock_trivial: StockRun
    trivial_points: tuple[float, float]  # (dlf, nbgrader): one point per trivial notebook


def measure(base: Path, args: argparse.Namespace, cpus: int) -> Figures:
    """Build the class in ``base``, grade it three times and time the trivial notebooks."""
    names: list[str] = args.assignments
    limits = Limits(cell_timeout=args.cell_timeout)
    ws, roster = build_class(base / "class", args.students, names)
    n = len(ws.submissions(names))
    hostile = sum(s.kind in HOSTILE_KINDS for s in roster)
    print(f"{n} notebooks; {hostile} of {len(roster)} students are hostile "
          "(graded, but left out of the score comparison)")
    # The gradebook is created untimed, so neither dlf run pays for its creation.
    gradebook.register_assignments(ws, names)
    print()

    print(f"dlf: grading with {cpus} workers ...", flush=True)
    parallel, results = grade_with_dlf(ws, names, cpus, limits)
    print(f"  {parallel.seconds:.1f} s", flush=True)
    print("dlf: grading with 1 worker ...", flush=True)
    serial, _ = grade_with_dlf(ws, names, 1, limits)
    print(f"  {serial.seconds:.1f} s", flush=True)

    print("nbgrader: registering the assignments (untimed) ...", flush=True)
    course = stock_course(base / "stock", names, cell_timeout=args.cell_timeout,
                          sources=ROOT / "solutions")
    shutil.copytree(ws.submitted, course / "submitted")
    counts = {name: len(ws.submissions([name])) for name in names}
    print(f"nbgrader: autograding {n} notebooks, one at a time ...", flush=True)
    stock = autograde_stock(course, names, counts)
    kinds = {s.name: s.kind for s in roster}
    if stock.graded == 0:
        print("  nbgrader executed no notebook; the end of its log:")
        print("\n".join(f"    {line}" for line in stock.tail))
    for student, assignment in stock.failed:
        print(f"  nbgrader failed on {student} {assignment} ({kinds.get(student, '?')})")
    scores = stock_scores(course, names)
    compared, differ = compare(results, scores, roster, course)

    print(f"overhead: {args.overhead_dlf} trivial notebooks through dlf, "
          f"{args.overhead_stock} through nbgrader ...", flush=True)
    dlf_each, dlf_points = overhead_dlf(base / "trivial-dlf", args.overhead_dlf, limits)
    stock_trivial, stock_points = overhead_stock(base / "trivial-stock", args.overhead_stock,
                                                 args.cell_timeout)
    return Figures(cpus, parallel, serial, stock, compared, differ,
                   hostile_totals(results, scores, roster), dlf_each, args.overhead_dlf,
                   stock_trivial, (dlf_points, stock_points))


def report(f: Figures) -> None:
    """Print the figures of one run."""
    print()
    print(f"{'grader':<22} {'notebooks':>9} {'wall s':>8} {'notebooks/s':>12}")
    for run in (f.parallel, f.serial, f.stock.run):
        print(f"{run.label:<22} {run.notebooks:>9} {run.seconds:>8.1f} {run.per_second:>12.2f}")
    print()
    print(f"dlf speed-up, {f.cpus} workers over 1: {f.serial.seconds / f.parallel.seconds:.2f}x")
    print(f"wall-time ratio nbgrader / dlf: {f.stock.run.seconds / f.parallel.seconds:.1f}x "
          f"against {f.cpus} workers, {f.stock.run.seconds / f.serial.seconds:.1f}x against 1")
    print(f"nbgrader: start-up {f.stock.startup:.1f} s in all; {f.stock.graded} notebooks executed, "
          f"{len(f.stock.failed)} submissions failed")
    print()
    t = f.stock_trivial
    print(f"per-notebook overhead ({TRIVIAL_CELLS} cells of `x = 1` and one test cell):")
    print(f"  dlf, 1 worker  {f.dlf_each * 1000:7.0f} ms  (wall / {f.dlf_notebooks})")
    print(f"  nbgrader       {t.run.seconds / t.run.notebooks * 1000:7.0f} ms  "
          f"(wall / {t.run.notebooks}, its {t.startup:.1f} s start-up included)")
    print(f"  nbgrader       {t.per_notebook_after_startup * 1000:7.0f} ms  "
          "(start-up left out)")
    ours, theirs = f.trivial_points
    print(f"  the passing test cell `assert x == 1` earned {ours:g} of {f.dlf_notebooks} points "
          f"from dlf, {theirs:g} of {t.run.notebooks} from nbgrader")
    print()
    print(f"scores: {f.compared - len(f.differ)} of {f.compared} autograded items agree "
          "on the non-hostile submissions")
    for d in f.differ:
        print(f"  DISAGREE {d.student} {d.assignment} {d.grade_id}: dlf {d.dlf}, nbgrader {d.stock}")
        print(f"    dlf: {d.dlf_says}")
        print(f"    nbgrader: {d.stock_says}")
    print()
    print("hostile submissions, autograded points (not compared; for reading only):")
    for student, kind, assignment, ours, theirs in f.hostile:
        print(f"  {student:<16} {kind:<16} {assignment:<20} dlf {ours:5g}  nbgrader {theirs:5g}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.grading", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=40, help="class size (at least 10)")
    parser.add_argument("--assignments", nargs="+", default=FAST_ASSIGNMENTS, metavar="NAME",
                        help="released assignments to hand in (default: the two fastest)")
    parser.add_argument("--quick", action="store_true", help="10 students, one assignment")
    parser.add_argument("--cell-timeout", type=int, default=10,
                        help="seconds a cell may run, in both graders (default 10)")
    parser.add_argument("--overhead-dlf", type=int, default=50, help="trivial notebooks for dlf")
    parser.add_argument("--overhead-stock", type=int, default=5,
                        help="trivial notebooks for nbgrader")
    args = parser.parse_args(argv)
    if args.quick:
        args.students, args.assignments = 10, args.assignments[-1:]
    if args.cell_timeout < 1:
        parser.error(f"--cell-timeout must be at least 1 s, got {args.cell_timeout}")
    if args.students < 10:
        parser.error(f"--students must be at least 10 (the roster's special cases), got {args.students}")
    if min(args.overhead_dlf, args.overhead_stock) < 1:
        parser.error("--overhead-dlf and --overhead-stock must be at least 1")
    released = [a.name for a in assignments() if a.release.exists()]
    if unknown := sorted(set(args.assignments) - set(released)):
        parser.error(f"no student release for {unknown}; released: {', '.join(released)}")

    cpus = usable_cpus()
    print(f"Sample class: {args.students} students x {', '.join(args.assignments)}; "
          f"cell timeout {args.cell_timeout} s in both graders")
    for line in describe_load():
        print(line)
    with tempfile.TemporaryDirectory(prefix="dlf-bench-") as tmp:
        figures = measure(Path(tmp), args, cpus)
    report(figures)
    one, _, _ = os.getloadavg()
    print(f"load average {one:.2f} (1 min) at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
