"""``dlf``: the course's command line. It parses arguments and calls library functions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from autograder import __version__

if TYPE_CHECKING:
    from autograder.instructor.workspace import Workspace
    from autograder.sandbox.limits import Limits


def _cmd_release(args: argparse.Namespace) -> int:
    from autograder.nb.release import generate

    for path in generate(names=args.assignment or None):
        print(f"wrote {path}")
    return 0


def _workspace(args: argparse.Namespace) -> Workspace:
    """The class's folder; with ``--course``, another nbgrader course's assignments, and its
    own folders unless ``--workspace`` is given too."""
    from autograder.instructor.workspace import Workspace
    from autograder.nb.coursedir import Course

    if getattr(args, "course", None):
        course = Course.load(Path(args.course))
        if args.workspace is None:
            return Workspace.of_course(course)
        return Workspace(Path(args.workspace).resolve(), course=course)
    return Workspace(Path(args.workspace or "course").resolve())


def _limits(args: argparse.Namespace) -> Limits:
    from autograder.sandbox.limits import Limits

    return Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout,
                  memory_bytes=args.memory_mb * 1024**2)


def _cmd_import(args: argparse.Namespace) -> int:
    from autograder.instructor.importing import import_submissions

    summary = import_submissions(_workspace(args), Path(args.source), assignment=args.assignment)
    print(summary.render())
    return 0


def _cmd_grade(args: argparse.Namespace) -> int:
    from autograder.cluster.client import scheduler_address
    from autograder.instructor.grade_all import grade_workspace

    ws = _workspace(args)
    scheduler = scheduler_address(args.scheduler, ws.root)
    summary = grade_workspace(ws, assignments=args.assignment or None, workers=args.workers,
                              limits=_limits(args), force=args.force, scheduler=scheduler)
    for line in summary.refused_workers:
        print(line, file=sys.stderr)
    where = f" on the Dask cluster at {scheduler}" if scheduler else ""
    print(f"graded {summary.graded} submissions{where}, reused {summary.reused} unchanged results, "
          f"in {summary.seconds:.1f} s")
    if summary.reconciled:
        print(f"recorded {summary.reconciled} earlier results the gradebook was missing")
    print(f"gradebook: {ws.gradebook}")
    if ws.course is not None and ws.course.feedback_copies_results():
        print(f"note: add '*result.json' to c.CourseDirectory.ignore in {ws.course.folder / 'nbgrader_config.py'}: "
              "nbgrader generate_feedback would otherwise copy dlf's results, which hold every test's "
              "full messages, into feedback/ (dlf feedback never does)")
    for line in summary.refused:
        print(f"not graded: {line}", file=sys.stderr)
    return 1 if summary.refused else 0


def _cmd_cluster_local(args: argparse.Namespace) -> int:
    from autograder.cluster.local import serve

    return serve(workers=args.workers, port=args.port)


def _cmd_feedback(args: argparse.Namespace) -> int:
    from autograder.instructor.feedback import write_feedback

    ws = _workspace(args)
    summary = write_feedback(ws)
    print(summary.render(ws))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from autograder.instructor.export import export_grades

    print(export_grades(_workspace(args)).render())
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from autograder.instructor.report import write_report

    print(f"wrote {write_report(_workspace(args), formgrader_url=args.formgrader_url)}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from autograder.instructor.demo import run_demo

    outcome = run_demo(_workspace(args), n_students=args.students,
                       names=_demo_names(args), workers=args.workers, limits=_limits(args))
    print(outcome.render())
    return 0 if outcome.ok else 1


def _demo_names(args: argparse.Namespace) -> list[str] | None:
    from autograder.nb.course import assignments

    if args.all:
        return [a.name for a in assignments()]
    return args.assignment or None


def _cmd_pipeline(args: argparse.Namespace) -> int:
    from autograder.instructor.demo import run_demo
    from autograder.nb.release import generate

    paths = generate()
    notebooks = [p for p in paths if p.suffix == ".ipynb"]
    print(f"release regenerated: {len(notebooks)} notebooks in notebooks/, "
          f"{len(paths) - len(notebooks)} visible-check files in autograder/exercises/")
    outcome = run_demo(_workspace(args), n_students=args.students,
                       names=_demo_names(args), workers=args.workers, limits=_limits(args))
    print(outcome.render())
    return 0 if outcome.ok else 1


def _cmd_check(args: argparse.Namespace) -> int:
    from autograder.student import check_notebook

    try:
        outcome = check_notebook(Path(args.path), with_hidden=args.with_hidden)
    except (FileNotFoundError, ValueError) as exc:
        print(f"dlf check: {exc}", file=sys.stderr)
        return 2
    print(outcome.output)
    return 0 if outcome.passed else 1


def _cmd_student_build(args: argparse.Namespace) -> int:
    from autograder.nb.course import assignments
    from autograder.nb.kernel import write_kernelspec
    from autograder.nb.views import build_view, write_wheel

    try:
        views = [build_view(a) for a in assignments()]
    except ValueError as exc:
        print(f"dlf student-build: {exc}", file=sys.stderr)
        return 1
    if args.kernel:
        print(write_kernelspec())
        return 0
    for view in views:
        print(f"notebook {view.notebook}: {view.path} ({len(view.modules)} modules)")
    if args.wheels:
        for view in views:
            print(f"wrote {write_wheel(view, Path(args.wheels))}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dlf", description="Deep-learning foundations: build, check and grade the course notebooks.")
    parser.add_argument("--version", action="version", version=f"dlf {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("release", help="regenerate the student release notebooks/ from solutions/")
    p.add_argument("assignment", nargs="*", help="assignment names (default: all)")
    p.set_defaults(func=_cmd_release)

    course_help = ("grade another nbgrader course: the folder with its nbgrader_config.py; its own "
                   "submitted/, autograded/, feedback/ and gradebook are the workspace unless "
                   "--workspace is given")
    workspace_help = "the class's folder: submitted/, autograded/, gradebook.db (default course)"

    def grading_options(p: argparse.ArgumentParser, workspace: str | None, cell_timeout: float = 30.0) -> None:
        p.add_argument("--workspace", default=workspace,
                       help=workspace_help if workspace is None else
                       f"the class's folder: submitted/, autograded/, gradebook.db (default {workspace})")
        p.add_argument("--workers", type=int, default=None, help="parallel notebooks (default: one per core)")
        p.add_argument("--cell-timeout", type=float, default=cell_timeout,
                       help=f"seconds per cell (default {cell_timeout:g})")
        p.add_argument("--notebook-timeout", type=float, default=180.0,
                       help="seconds per notebook (default 180)")
        p.add_argument("--memory-mb", type=int, default=2048, help="memory per notebook (default 2048)")

    p = sub.add_parser("import", help="import submissions: nbgrader's submitted/<student>/<assignment>/ "
                       "folders or an LMS zip export")
    p.add_argument("source", help="a folder or a .zip file")
    p.add_argument("--workspace", default=None, help="where to import to (default course)")
    p.add_argument("--course", metavar="ROOT", default=None, help=course_help)
    p.add_argument("--assignment", default=None,
                   help="the assignment, when the file names do not say which it is")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("grade", help="grade every submission in the workspace (resumes; skips unchanged)")
    p.add_argument("assignment", nargs="*", help="assignment names (default: all)")
    p.add_argument("--force", action="store_true", help="grade again even when nothing changed")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="grade on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786); "
                        "default $DLF_SCHEDULER, else c.Dlf.scheduler in course/nbgrader_config.py, "
                        "else this machine ('local')")
    p.add_argument("--course", metavar="ROOT", default=None, help=course_help)
    grading_options(p, None)
    p.set_defaults(func=_cmd_grade)

    p = sub.add_parser("cluster-local", help="start a Dask scheduler and N grading workers on this "
                       "machine, to try dlf grade --scheduler")
    p.add_argument("--workers", type=int, default=2, help="worker processes, one thread each (default 2)")
    p.add_argument("--port", type=int, default=0,
                   help="the scheduler's port on 127.0.0.1 (default: a free one)")
    p.set_defaults(func=_cmd_cluster_local)

    for name, func, text in (
            ("feedback", _cmd_feedback, "write per-student HTML feedback from the gradebook"),
            ("export", _cmd_export, "write grades.csv (one column per graded item) and canvas.csv"),
            ("report", _cmd_report, "write the class report: students, problems, manual-grading queue")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--workspace", default=None, help="the class's folder (default course)")
        p.add_argument("--course", metavar="ROOT", default=None, help=course_help)
        if name == "report":
            p.add_argument("--formgrader-url", default="http://localhost:8888",
                           help="where formgrader runs, for the links of the manual-grading queue")
        p.set_defaults(func=func)

    for name, func, text in (
            ("demo", _cmd_demo, "generate the sample class and run grade, feedback, export and report"),
            ("pipeline", _cmd_pipeline, "the main job: rebuild the release, then the demo on the sample class")):
        p = sub.add_parser(name, help=text)
        p.add_argument("assignment", nargs="*",
                       help="assignment names (default: 01_unit_to_network 04_costs 06_backpropagation)")
        p.add_argument("--all", action="store_true", help="every assignment of the course")
        p.add_argument("--students", type=int, default=42, help="students in the sample class (default 42)")
        grading_options(p, "out/demo", cell_timeout=10.0)
        p.set_defaults(func=func)

    p = sub.add_parser("student-build", help="build each notebook's student build (what its "
                       "sandbox and its students' kernels may import)")
    p.add_argument("--wheels", metavar="DIR", help="also write one wheel per notebook into DIR")
    p.add_argument("--kernel", action="store_true",
                   help="write the Jupyter kernel that gives each notebook its build; print its "
                        "JUPYTER_PATH entry")
    p.set_defaults(func=_cmd_student_build)

    p = sub.add_parser("check", help="run one notebook with its student build and summarise its "
                       "visible checks")
    p.add_argument("path", help="a notebook, e.g. notebooks/01_unit_to_network/01_unit_to_network.ipynb")
    p.add_argument("--with-hidden", action="store_true",
                   help="grade it with the hidden checks too (self-study, in the repository)")
    p.set_defaults(func=_cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; a problem with the input is one line on stderr and exit status 1."""
    import os

    from autograder.cluster.client import ClusterError
    from autograder.instructor.gradebook import DiskFull
    from autograder.instructor.mathjax import MathJaxMissing
    from autograder.nb.release import ReleaseError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        result: int = args.func(args)
    except (ValueError, DiskFull, MathJaxMissing, FileNotFoundError, ReleaseError,
            ClusterError) as exc:
        if os.environ.get("DLF_DEBUG"):
            raise
        text = exc.strerror if isinstance(exc, DiskFull) and exc.strerror else str(exc)
        print(f"error: {text}", file=sys.stderr)
        return 1
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
