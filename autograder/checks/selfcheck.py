"""``dlf check NOTEBOOK``: a student runs their notebook and reads one line per exercise.

The notebook's code cells run in order in this process (answers, demos, visible
checks), with the course code of the student build only: what passes here passes the
visible checks under the grader. The summary gives each exercise (a test cell) a line,
collapses the untouched ones, totals the visible points, says which written answers
are still empty, and points a failure that comes from another answer back to it. A demo
cell that waits for an answer (``needs``) is reported as waiting for it; one that raises
anything else is reported with the answer cell it raised in.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.checks import CheckFailed, judge
from autograder.checks.demos import NotReady

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)
PLACEHOLDER = "YOUR ANSWER HERE"


@dataclass
class Exercise:
    """One graded cell of the notebook and what running it gave."""

    grade_id: str
    points: float
    kind: str  # "auto" or "written"
    status: str = "pass"  # "pass", "fail", "recorded", "untouched", "written", "empty"
    messages: list[str] = field(default_factory=list)


@dataclass
class Demo:
    """A demo or plot cell that did not run through: it waits for answers, or it raised."""

    grade_id: str
    waiting: list[tuple[str, str]] = field(default_factory=list)  # (answer name, why)
    error: str = ""


UNWRITTEN = ("not written yet", "still None", "still empty", "still Ellipsis")


@dataclass
class Report:
    notebook: str
    exercises: list[Exercise]
    demos: list[Demo] = field(default_factory=list)

    @property
    def visible_points(self) -> tuple[float, float]:
        auto = [e for e in self.exercises if e.kind == "auto"]
        return (sum(e.points for e in auto if e.status in ("pass", "recorded")),
                sum(e.points for e in auto))

    def render(self) -> str:
        lines = [f"{self.notebook}: visible checks"]
        untouched = [e.grade_id for e in self.exercises if e.status == "untouched"]
        for e in self.exercises:
            if e.status == "untouched":
                continue
            mark = {"pass": "✓", "fail": "✗", "recorded": "•", "written": "…", "empty": "○"}[e.status]
            what = {"written": "written answer: graded by your instructor",
                    "empty": "written answer: not written yet",
                    "recorded": "recorded; checked against the answer key when graded"}
            text = what.get(e.status, f"{e.points:g} point(s)")
            lines.append(f"  {mark} {e.grade_id}: {text}")
            if e.status == "fail":
                lines.extend("      " + m.replace("\n", "\n      ") for m in e.messages)
        if untouched:
            lines.append(f"  ○ not started yet ({len(untouched)}): {', '.join(untouched)}")
        lines += self._render_demos()
        got, total = self.visible_points
        lines.append(f"visible checks: {got:g} of {total:g} points (hidden checks and written "
                     "answers are graded when you hand in)")
        return "\n".join(lines)

    def _render_demos(self) -> list[str]:
        """Demos that wait only for unwritten answers on one line; the others one line each."""
        lines, quiet = [], []
        for d in self.demos:
            if d.error:
                lines.append(f"  ✗ demo {d.grade_id}: {d.error}")
            elif all(why in UNWRITTEN for _, why in d.waiting):
                quiet.append(d)
            else:
                what = ", ".join(f"{name} ({why})" for name, why in d.waiting)
                lines.append(f"  ⏸ demo {d.grade_id} waits for exercise {what}")
        if quiet:
            lines.insert(0, f"  ⏸ {len(quiet)} demo(s) wait for exercises not written yet: "
                            f"{', '.join(d.grade_id for d in quiet)}")
        return lines


def _meta(cell: Any) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return dict(meta) if isinstance(meta, dict) else {}


def _cell_name(index: int) -> str:
    return f"<cell {index}>"


def _origin(exc: BaseException, answers: dict[str, str]) -> str:
    """Which answer cell an exception raised inside, if any (the deepest one)."""
    found = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename in answers:
            found = answers[frame.filename]
    return found


def run(path: Path) -> Report:
    """Run every code cell of the notebook at ``path``; judge its test cells (hidden parts cut)."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exercises: list[Exercise] = []
    demos: list[Demo] = []
    answers: dict[str, str] = {}  # code filename -> grade id of the answer cell
    broken: dict[str, str] = {}  # grade id -> what the answer cell raised
    defined_by: dict[str, str] = {}  # a name -> the answer cell that defines it
    for index, cell in enumerate(nb.cells):
        meta = _meta(cell)
        gid = str(meta.get("grade_id", f"cell-{index}"))
        if cell.cell_type == "markdown":
            if meta.get("grade") and meta.get("solution"):
                text = cell.source.strip()
                empty = not text or PLACEHOLDER in text
                exercises.append(Exercise(gid, float(meta.get("points", 0)), "written",
                                          "empty" if empty else "written"))
            continue
        if cell.cell_type != "code":
            continue
        is_test = bool(meta.get("grade")) and not meta.get("solution")
        source = HIDDEN.sub("", cell.source) if is_test else cell.source
        filename = _cell_name(index)
        if meta.get("solution"):
            answers[filename] = gid
            for name in re.findall(r"^(?:def|class)\s+(\w+)|^(\w+)\s*=", source, re.M):
                defined_by[name[0] or name[1]] = gid
        outcome = _run_cell(source, filename, namespace)
        if meta.get("solution") and outcome is not None:
            broken[gid] = _describe(outcome)
        if not is_test:
            if isinstance(outcome, NotReady):
                demos.append(Demo(gid, list(outcome.waiting)))
            elif outcome is not None and not meta.get("solution"):
                origin = _origin(outcome, answers)
                where = f" (inside your answer cell {origin})" if origin else ""
                demos.append(Demo(gid, error=f"raised {_describe(outcome)}{where}"))
            continue
        exercise = Exercise(gid, float(meta.get("points", 0)), "auto")
        exercises.append(exercise)
        if outcome is None:
            exercise.status = "recorded" if "recorded" in _printed(namespace) else "pass"
            continue
        exercise.status, exercise.messages = _explain(outcome, answers, broken, defined_by)
    return Report(path.stem, exercises, demos)


def _printed(namespace: dict[str, Any]) -> str:
    return str(namespace.get("__dlf_last_output__", ""))


def _run_cell(source: str, filename: str, namespace: dict[str, Any]) -> BaseException | None:
    buf = io.StringIO()
    try:
        code = compile(source, filename, "exec")
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            exec(code, namespace)
    except BaseException as exc:  # a student's SystemExit ends their cell, not the check
        namespace["__dlf_last_output__"] = buf.getvalue()
        return exc
    namespace["__dlf_last_output__"] = buf.getvalue()
    return None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip().rstrip(":")


def _explain(exc: BaseException, answers: dict[str, str], broken: dict[str, str],
             defined_by: dict[str, str]) -> tuple[str, list[str]]:
    if isinstance(exc, CheckFailed):
        text = str(exc)
        if judge.is_unanswered(text):
            return "untouched", [text]
        return "fail", [text]
    if isinstance(exc, NameError):
        name = getattr(exc, "name", None) or ""
        owner = defined_by.get(name)
        if owner and owner in broken:
            return "fail", [f"{name} is not defined because your answer cell {owner} raised "
                            f"{broken[owner]}: fix that cell first"]
        return "untouched", [f"{name or 'a name'} is not defined yet: write its answer cell "
                             "and run it"]
    origin = _origin(exc, answers)
    text = _describe(exc)
    if isinstance(exc, NotImplementedError):
        where = f" (in your answer cell {origin})" if origin else ""
        return "untouched", [f"not implemented yet{where}"]
    if origin:
        return "fail", [f"{text}: raised inside your answer cell {origin}, which this check "
                        "uses"]
    return "fail", [text]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dlf", description="Check your notebook's visible checks.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="run a notebook and summarise its visible checks")
    check.add_argument("notebook", type=Path)
    args = parser.parse_args(argv)
    if not args.notebook.exists():
        print(f"dlf: no notebook at {args.notebook}", file=sys.stderr)
        return 2
    import matplotlib

    matplotlib.use("Agg")
    report = run(args.notebook)
    print(report.render())
    got, total = report.visible_points
    return 0 if got == total else 1


if __name__ == "__main__":
    raise SystemExit(main())
