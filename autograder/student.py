"""``dlf check``: a student runs the visible checks of their notebook and gets a summary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.grading import NotebookResult, grade_notebook
from autograder.nb.course import ROOT


@dataclass(frozen=True)
class CheckSummary:
    result: NotebookResult

    @property
    def all_passed(self) -> bool:
        return all(i.points == i.max_points for i in self.result.items if i.points is not None)

    def render(self) -> str:
        lines = [f"{self.result.assignment}: visible checks"]
        for item in self.result.items:
            if item.points is None:
                lines.append(f"  … {item.grade_id}: written answer, graded by your instructor")
                continue
            mark = "✓" if item.points == item.max_points else "✗"
            lines.append(f"  {mark} {item.grade_id} ({item.points:g}/{item.max_points:g})")
            if item.points < item.max_points:
                lines.extend("      " + m.replace("\n", "\n      ") for m in item.messages)
        done = sum(1 for i in self.result.items if i.points is not None and i.points == i.max_points)
        auto = sum(1 for i in self.result.items if i.points is not None)
        lines.append(f"{done} of {auto} exercises pass their visible checks")
        lines.extend(f"note: {p}" for p in self.result.problems)
        return "\n".join(lines)


def check_notebook(path: Path, *, root: Path = ROOT) -> CheckSummary:
    """Grade ``path`` against the visible tests of its assignment's release notebook."""
    if not path.exists():
        raise FileNotFoundError(f"no notebook at {path}")
    name = path.parent.name
    release = root / "notebooks" / name / f"{name}.ipynb"
    source = release if release.exists() else path
    return CheckSummary(grade_notebook(source, path, student=path.stem))
