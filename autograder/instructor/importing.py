"""``dlf import``: bring submissions into the workspace from nbgrader folders or an LMS zip.

Accepted sources:

- a folder in nbgrader's layout, ``<student>/<assignment>/<notebook>.ipynb`` (the
  ``submitted/`` folder of another course, or an ``nbgrader collect`` result);
- a zip file exported by an LMS. Canvas names each file
  ``<student>_<ids>_<original name>.ipynb``; Moodle puts each student's files in a folder
  ``<Full Name>_<id>_assignsubmission_file_/``. The student comes from the name, the
  assignment from the notebook's name (or ``--assignment``).

Nothing is overwritten silently: a notebook that differs from the one already imported
replaces it and is reported as updated.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder.instructor.workspace import Workspace
from autograder.nb.course import assignments

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class ImportSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"imported {len(self.added)} new, {len(self.updated)} updated, "
                 f"{len(self.unchanged)} unchanged submissions"]
        lines += [f"  skipped {s}" for s in self.skipped]
        return "\n".join(lines)


def _student_id(text: str) -> str:
    clean = _SAFE.sub("-", text.strip().lower()).strip("-.")
    if not clean:
        raise ValueError(f"cannot make a student id from {text!r}")
    return clean


def _match_assignment(name: str, known: list[str], given: str | None) -> str | None:
    if given:
        return given
    stem = name.lower()
    for assignment in sorted(known, key=len, reverse=True):
        if assignment.lower() in stem:
            return assignment
    return None


def _store(ws: Workspace, student: str, assignment: str, data: bytes, summary: ImportSummary) -> None:
    target = ws.submitted / student / assignment / f"{assignment}.ipynb"
    label = f"{student}/{assignment}"
    if target.exists():
        if target.read_bytes() == data:
            summary.unchanged.append(label)
            return
        summary.updated.append(label)
    else:
        summary.added.append(label)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def import_submissions(ws: Workspace, source: Path, *, assignment: str | None = None) -> ImportSummary:
    known = [a.name for a in assignments(ws.root)]
    if assignment is not None and assignment not in known:
        raise ValueError(f"unknown assignment {assignment!r}; the course has: {', '.join(known)}")
    summary = ImportSummary()
    if source.is_dir():
        _from_folder(ws, source, known, assignment, summary)
    elif source.suffix.lower() == ".zip" and source.is_file():
        _from_zip(ws, source, known, assignment, summary)
    else:
        raise ValueError(f"{source} is neither a folder nor a zip file; give the folder that holds "
                         "<student>/<assignment>/ or the zip file your LMS exported")
    return summary


def _from_folder(ws: Workspace, source: Path, known: list[str], given: str | None,
                 summary: ImportSummary) -> None:
    notebooks = sorted(p for p in source.glob("*/*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not notebooks:
        raise ValueError(f"no notebooks in {source}: expected <student>/<assignment>/<name>.ipynb")
    for nb in notebooks:
        student_dir, assignment_dir = nb.parent.parent.name, nb.parent.name
        assignment = given or (assignment_dir if assignment_dir in known else
                               _match_assignment(nb.stem, known, None))
        if assignment is None:
            summary.skipped.append(f"{nb} (no assignment called {assignment_dir!r})")
            continue
        _store(ws, _student_id(student_dir), assignment, nb.read_bytes(), summary)


def _from_zip(ws: Workspace, source: Path, known: list[str], given: str | None,
              summary: ImportSummary) -> None:
    with zipfile.ZipFile(source) as archive:
        entries = [i for i in archive.infolist()
                   if i.filename.endswith(".ipynb") and not i.is_dir()
                   and "__MACOSX" not in i.filename and ".ipynb_checkpoints" not in i.filename]
        if not entries:
            raise ValueError(f"{source} holds no .ipynb file")
        for info in entries:
            path = PurePosixPath(info.filename)
            if len(path.parts) > 1 and "_assignsubmission_" in path.parts[-2]:  # Moodle
                student = path.parts[-2].split("_")[0]
            else:  # Canvas: student_[LATE_]ids_original-name.ipynb
                student = path.name.split("_")[0]
            assignment = _match_assignment(path.name, known, given)
            if assignment is None:
                summary.skipped.append(f"{info.filename} (its name names no assignment; "
                                       "use --assignment)")
                continue
            _store(ws, _student_id(student), assignment, archive.read(info), summary)
