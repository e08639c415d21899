"""Where a class's files live: nbgrader's layout, so nbgrader's own commands work on it too.

::

    <workspace>/submitted/<student>/<assignment>/<assignment>.ipynb   what students handed in
    <workspace>/autograded/<student>/<assignment>/                     executed notebook, result.json
    <workspace>/feedback/<student>/<assignment>/<assignment>.html      what students get back
    <workspace>/gradebook.db                                           nbgrader's gradebook
    <workspace>/exports/grades.csv, <workspace>/report/index.html
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.nb.course import ROOT, Assignment, assignments


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: Assignment
    path: Path


@dataclass(frozen=True)
class Workspace:
    path: Path
    root: Path = ROOT

    @property
    def submitted(self) -> Path:
        return self.path / "submitted"

    @property
    def autograded(self) -> Path:
        return self.path / "autograded"

    @property
    def feedback(self) -> Path:
        return self.path / "feedback"

    @property
    def gradebook(self) -> Path:
        return self.path / "gradebook.db"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.gradebook.resolve()}"

    @property
    def exports(self) -> Path:
        return self.path / "exports"

    @property
    def report(self) -> Path:
        return self.path / "report"

    def assignment(self, name: str) -> Assignment:
        known = {a.name: a for a in assignments(self.root)}
        if name not in known:
            raise ValueError(f"unknown assignment {name!r}; the course has: {', '.join(known)}")
        return known[name]

    def submissions(self, names: list[str] | None = None) -> list[Submission]:
        """Every submitted notebook, by student then assignment; unknown folders are skipped."""
        known = {a.name: a for a in assignments(self.root)}
        out: list[Submission] = []
        if not self.submitted.is_dir():
            return out
        for student_dir in sorted(p for p in self.submitted.iterdir() if p.is_dir()):
            for a_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
                if a_dir.name not in known or (names and a_dir.name not in names):
                    continue
                nb = a_dir / f"{a_dir.name}.ipynb"
                if not nb.exists():
                    candidates = sorted(a_dir.glob("*.ipynb"))
                    if not candidates:
                        continue
                    nb = candidates[0]
                out.append(Submission(student_dir.name, known[a_dir.name], nb))
        return out

    def result_dir(self, sub: Submission) -> Path:
        return self.autograded / sub.student / sub.assignment.name
