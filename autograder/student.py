"""``dlf check``: a notebook run with its own student build, as the sandbox will see it.

The notebook's code runs in a separate Python whose only course code is the notebook's
view (``autograder.nb.views``): the visible checks, the helpers its locked cells import,
nothing its exercises ask for. An answer that leans on the reference fails here as it
fails under ``dlf grade``. Self-study readers working in the repository can add
``--with-hidden``: the notebook is then graded by ``dlf``'s grader, hidden checks included.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from autograder.nb.course import ROOT, Assignment, assignments


@dataclass(frozen=True)
class CheckOutcome:
    output: str
    passed: bool


def assignment_of(path: Path, *, root: Path = ROOT) -> Assignment:
    """The assignment a notebook belongs to: by its folder's name, else by its own name."""
    known = {a.name: a for a in assignments(root)}
    for name in (path.resolve().parent.name, path.stem):
        if name in known:
            return known[name]
    raise ValueError(f"{path} is not a notebook of this course: its folder or file name must be "
                     f"one of {', '.join(known)}")


def check_notebook(path: Path, *, root: Path = ROOT, with_hidden: bool = False) -> CheckOutcome:
    """Run ``path`` with its notebook's student build and summarise its visible checks."""
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    assignment = assignment_of(path, root=root)
    if with_hidden:
        return _graded(assignment, path)
    from autograder.nb.views import build_view, student_command

    view = build_view(assignment, root=root)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.setdefault("MPLBACKEND", "Agg")
    done = subprocess.run(student_command(view, "autograder.checks.selfcheck", "check",
                                          str(path.resolve())),
                          capture_output=True, text=True, env=env, cwd=path.resolve().parent)
    output = done.stdout + (done.stderr if done.returncode not in (0, 1) else "")
    return CheckOutcome(output.rstrip(), done.returncode == 0)


def _graded(assignment: Assignment, path: Path) -> CheckOutcome:
    from autograder.grading import grade_notebook

    result = grade_notebook(assignment.source, path, student=path.stem)
    lines = [f"{assignment.name}: graded with the hidden checks"]
    for item in result.items:
        if item.points is None:
            lines.append(f"  … {item.grade_id}: written answer, graded by an instructor")
            continue
        mark = "✓" if item.points == item.max_points else "✗"
        lines.append(f"  {mark} {item.grade_id} ({item.points:g}/{item.max_points:g})")
        if item.points < item.max_points:
            lines.extend("      " + m.replace("\n", "\n      ") for m in item.messages)
    auto = [i for i in result.items if i.points is not None]
    got, total = sum(i.points or 0 for i in auto), sum(i.max_points for i in auto)
    lines.append(f"autograded: {got:g} of {total:g} points")
    lines.extend(f"note: {p}" for p in result.problems)
    return CheckOutcome("\n".join(lines), got == total)
