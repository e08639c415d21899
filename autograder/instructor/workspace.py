"""Where a class's files live: nbgrader's layout, so nbgrader's own commands work on it too.

::

    <workspace>/submitted/<student>/<assignment>/<notebook>.ipynb     what students handed in
    <workspace>/submitted/<student>/<assignment>/dlf-submission.json  who, when, late (from dlf import)
    <workspace>/autograded/<student>/<assignment>/                     executed notebooks, results
    <workspace>/feedback/<student>/<assignment>/<notebook>.html        what students get back
    <workspace>/gradebook.db                                           nbgrader's gradebook
    <workspace>/exports/grades.csv, <workspace>/report/index.html

This course's notebook is named after its assignment (``04_costs/04_costs.ipynb``) and
its result is ``result.json``; an assignment of another nbgrader course (``--course``)
may have several notebooks, whose results are ``<notebook>.result.json``. With
``--course`` alone, the workspace is the course's own folders (its ``submitted/``,
``autograded/``, ``feedback/`` and gradebook, wherever its configuration puts them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.grading.grade import Foreign
from autograder.nb.course import ROOT, Assignment, assignments
from autograder.nb.coursedir import Course

SUBMISSION_META = "dlf-submission.json"


def result_name(assignment: str, notebook: str) -> str:
    """The file of a notebook's result: ``result.json`` for the notebook named after its assignment."""
    return "result.json" if notebook == assignment else f"{notebook}.result.json"


def item_label(assignment: str, notebook: str, grade_id: str) -> str:
    """How exports and reports name a graded cell: its grade id, after its notebook's name
    when the notebook is not the one named after the assignment (grade ids are per notebook)."""
    return grade_id if notebook == assignment else f"{notebook}/{grade_id}"


class WorkspaceError(ValueError):
    """The workspace is not there or not usable; the message says what to do."""


@dataclass(frozen=True)
class Submission:
    """One notebook of one student's hand-in; ``path`` may not exist (a notebook not handed in)."""

    student: str
    assignment: Assignment
    path: Path
    notebook: str = ""  # its name in the gradebook; "" for the one named after the assignment

    def __post_init__(self) -> None:
        object.__setattr__(self, "notebook", self.notebook or self.assignment.name)

    @property
    def handed_in(self) -> bool:
        return self.path.is_file()

    @property
    def source(self) -> Path:
        return self.assignment.source_of(self.notebook)

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
    """A class's folder; its assignments come from this course at ``root``, or from
    ``course`` (another nbgrader course, ``--course``), whose own folders it uses when
    ``in_course``."""

    path: Path
    root: Path = ROOT
    course: Course | None = None
    in_course: bool = False

    @classmethod
    def of_course(cls, course: Course) -> Workspace:
        """The course's own folders: nbgrader's commands and dlf's work on the same files."""
        return cls(course.root, course=course, in_course=True)

    @property
    def submitted(self) -> Path:
        return self.course.submitted if self.course and self.in_course else self.path / "submitted"

    @property
    def autograded(self) -> Path:
        return self.course.autograded if self.course and self.in_course else self.path / "autograded"

    @property
    def feedback(self) -> Path:
        return self.course.feedback if self.course and self.in_course else self.path / "feedback"

    @property
    def gradebook(self) -> Path:
        return self.course.gradebook if self.course and self.in_course else self.path / "gradebook.db"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.gradebook.resolve()}"

    @property
    def exports(self) -> Path:
        return self.path / "exports"

    @property
    def report(self) -> Path:
        return self.path / "report"

    def assignments(self) -> list[Assignment]:
        """The course's assignments: this course's notebooks, or the other course's folders."""
        return self.course.assignments() if self.course else assignments(self.root)

    def assignment(self, name: str) -> Assignment:
        known = {a.name: a for a in self.assignments()}
        if name not in known:
            raise ValueError(f"unknown assignment {name!r}; the course has: {', '.join(known)}")
        return known[name]

    @property
    def option(self) -> str:
        """The options that name this workspace on dlf's command line."""
        where = f"--workspace {self.path}" if not self.in_course else ""
        return " ".join(p for p in (f"--course {self.course.folder}" if self.course else "", where) if p)

    def foreign(self, assignment: Assignment) -> Foreign | None:
        """How another course's notebooks are graded (its own files, its stderr pattern);
        None for this course's."""
        if self.course is None:
            return None
        return Foreign(self.course.own_files(assignment), self.course.ignore_stderr)

    def require(self) -> None:
        """Stop with a clear message unless this folder holds a class."""
        if self.in_course:
            if not self.submitted.is_dir() and not self.gradebook.is_file():
                raise WorkspaceError(f"the course at {self.path} has no {self.submitted.name}/ folder and no "
                                     f"gradebook: import submissions first (dlf import SOURCE {self.option})")
            return
        if not self.path.is_dir():
            raise WorkspaceError(f"no workspace at {self.path}: import submissions first "
                                 f"(dlf import SOURCE {self.option}) or pass --workspace")
        if not self.submitted.is_dir() and not self.gradebook.is_file():
            raise WorkspaceError(f"{self.path} holds no submitted/ folder and no gradebook.db: import "
                                 f"submissions first (dlf import SOURCE {self.option})")

    def check_assignments(self, names: list[str] | None) -> None:
        known = [a.name for a in self.assignments()]
        unknown = [n for n in names or [] if n not in known]
        if unknown:
            raise WorkspaceError(f"no assignment called {', '.join(map(repr, unknown))}; "
                                 f"the course has: {', '.join(known)}")

    def scan(self, names: list[str] | None = None) -> Scan:
        """Every submitted notebook, by student then assignment; unknown folders are skipped.

        For an assignment of one notebook, a folder with one notebook gives that notebook;
        with several, the one named as the assignment's; otherwise the folder is refused,
        with a message, never guessed. An assignment of several notebooks takes each by
        its name, as nbgrader does: one not handed in is a submission without its file
        (nbgrader gives its cells 0), other notebooks are not graded.
        """
        known = {a.name: a for a in self.assignments()}
        scan = Scan()
        if not self.submitted.is_dir():
            return scan
        for student_dir in sorted(p for p in self.submitted.iterdir() if p.is_dir()):
            for a_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
                if a_dir.name not in known or (names and a_dir.name not in names):
                    continue
                assignment = known[a_dir.name]
                candidates = sorted(p for p in a_dir.glob("*.ipynb") if not p.name.startswith("."))
                if len(assignment.names) > 1:
                    scan.submissions.extend(Submission(student_dir.name, assignment, a_dir / f"{nb}.ipynb", nb)
                                            for nb in assignment.names)
                    continue
                only = assignment.names[0]
                named = a_dir / f"{only}.ipynb"
                if named in candidates or len(candidates) == 1:
                    nb = named if named in candidates else candidates[0]
                    scan.submissions.append(Submission(student_dir.name, assignment, nb, only))
                elif candidates:
                    scan.refused.append(
                        f"{student_dir.name}/{a_dir.name} holds {len(candidates)} notebooks "
                        f"({', '.join(p.name for p in candidates)}) and none is named {only}.ipynb: "
                        f"keep the one to grade, or rename it to {only}.ipynb")
        return scan

    def submissions(self, names: list[str] | None = None) -> list[Submission]:
        """The submissions of ``scan``, without the refused folders."""
        return self.scan(names).submissions

    def result_dir(self, sub: Submission) -> Path:
        return self.autograded / sub.student / sub.assignment.name

    def result_path(self, sub: Submission) -> Path:
        return self.result_dir(sub) / result_name(sub.assignment.name, sub.notebook)
