"""Where a class's files live: nbgrader's layout, so nbgrader's own commands work on it too.

::

    <workspace>/submitted/<student>/<assignment>/<assignment>.ipynb   what students handed in
    <workspace>/submitted/<student>/<assignment>/dlf-submission.json  who, when, late (from dlf import)
    <workspace>/autograded/<student>/<assignment>/                     executed notebook, result.json
    <workspace>/feedback/<student>/<assignment>/<assignment>.html      what students get back
    <workspace>/gradebook.db                                           nbgrader's gradebook
    <workspace>/exports/grades.csv, <workspace>/report/index.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.nb.course import ROOT, Assignment, assignments

SUBMISSION_META = "dlf-submission.json"


class WorkspaceError(ValueError):
    """The workspace is not there or not usable; the message says what to do."""


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: Assignment
    path: Path

    @property
    def meta(self) -> dict[str, Any]:
        """What ``dlf import`` recorded: name, LMS user id, late flag, submission time."""
        try:
            data = json.loads((self.path.parent / SUBMISSION_META).read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @property
    def timestamp(self) -> str | None:
        """nbgrader's ``timestamp.txt`` if the folder has one, else the time the LMS gave."""
        stamp = self.path.parent / "timestamp.txt"
        if stamp.is_file():
            return stamp.read_text(errors="replace").strip() or None
        value = self.meta.get("submitted_at")
        return str(value) if value else None


@dataclass
class Scan:
    """The submissions found, and the folders that could not be resolved to one notebook."""

    submissions: list[Submission] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


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

    def require(self) -> None:
        """Stop with a clear message unless this folder holds a class."""
        if not self.path.is_dir():
            raise WorkspaceError(f"no workspace at {self.path}: import submissions first "
                                 f"(dlf import SOURCE --workspace {self.path}) or pass --workspace")
        if not self.submitted.is_dir() and not self.gradebook.is_file():
            raise WorkspaceError(f"{self.path} holds no submitted/ folder and no gradebook.db: import "
                                 f"submissions first (dlf import SOURCE --workspace {self.path})")

    def check_assignments(self, names: list[str] | None) -> None:
        known = [a.name for a in assignments(self.root)]
        unknown = [n for n in names or [] if n not in known]
        if unknown:
            raise WorkspaceError(f"no assignment called {', '.join(map(repr, unknown))}; "
                                 f"the course has: {', '.join(known)}")

    def scan(self, names: list[str] | None = None) -> Scan:
        """Every submitted notebook, by student then assignment; unknown folders are skipped.

        A folder with one notebook gives that notebook; with several, the one named after
        the assignment; otherwise the folder is refused, with a message, never guessed.
        """
        known = {a.name: a for a in assignments(self.root)}
        scan = Scan()
        if not self.submitted.is_dir():
            return scan
        for student_dir in sorted(p for p in self.submitted.iterdir() if p.is_dir()):
            for a_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
                if a_dir.name not in known or (names and a_dir.name not in names):
                    continue
                candidates = sorted(p for p in a_dir.glob("*.ipynb") if not p.name.startswith("."))
                named = a_dir / f"{a_dir.name}.ipynb"
                if named in candidates or len(candidates) == 1:
                    nb = named if named in candidates else candidates[0]
                    scan.submissions.append(Submission(student_dir.name, known[a_dir.name], nb))
                elif candidates:
                    scan.refused.append(
                        f"{student_dir.name}/{a_dir.name} holds {len(candidates)} notebooks "
                        f"({', '.join(p.name for p in candidates)}) and none is named {a_dir.name}.ipynb: "
                        f"keep the one to grade, or rename it to {a_dir.name}.ipynb")
        return scan

    def submissions(self, names: list[str] | None = None) -> list[Submission]:
        """The submissions of ``scan``, without the refused folders."""
        return self.scan(names).submissions

    def result_dir(self, sub: Submission) -> Path:
        return self.autograded / sub.student / sub.assignment.name
