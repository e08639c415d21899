"""``dlf``: the course's command line. It parses arguments and calls library functions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder import __version__


def _cmd_release(args: argparse.Namespace) -> int:
    from autograder.nb.release import generate

    for path in generate(names=args.assignment or None):
        print(f"wrote {path}")
    return 0


def _cmd_pipeline(args: argparse.Namespace) -> int:
    from autograder.pipeline import run_pipeline

    report = run_pipeline(names=args.assignment or None)
    print(f"release regenerated in notebooks/ ({len(report.release_paths)} notebooks)")
    print(f"{'assignment':28} {'solution':>12} {'blank':>10}")
    for row in report.rows:
        s, b = row.solution, row.blank
        flag = "" if row.ok else "   <-- expected full marks and zero"
        print(f"{row.assignment:28} {s.score:5g}/{s.max_score:<6g} {b.score:4g}/{b.max_score:<5g}{flag}")
        for problem in s.problems:
            print(f"    solution: {problem}")
        for item in s.items:
            if item.points is not None and item.points < item.max_points:
                print(f"    {item.grade_id}: " + "; ".join(item.messages)[:400])
    print(f"graded {2 * len(report.rows)} notebooks in {report.seconds:.1f} s")
    return 0 if report.ok else 1


def _cmd_check(args: argparse.Namespace) -> int:
    from autograder.student import check_notebook

    summary = check_notebook(Path(args.path))
    print(summary.render())
    return 0 if summary.all_passed else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dlf", description="Deep-learning foundations: build, check and grade the course notebooks.")
    parser.add_argument("--version", action="version", version=f"dlf {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("release", help="regenerate the student release notebooks/ from solutions/")
    p.add_argument("assignment", nargs="*", help="assignment names (default: all)")
    p.set_defaults(func=_cmd_release)

    p = sub.add_parser("pipeline", help="the main job: build the release and grade every solution "
                       "(full marks) and blank release (zero)")
    p.add_argument("assignment", nargs="*", help="assignment names (default: all)")
    p.set_defaults(func=_cmd_pipeline)

    p = sub.add_parser("check", help="run the visible checks of one notebook and summarise them")
    p.add_argument("path", help="a notebook, e.g. notebooks/01_unit_to_network/01_unit_to_network.ipynb")
    p.set_defaults(func=_cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    result: int = args.func(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
