"""``dlf import``: bring submissions into the workspace from nbgrader folders or an LMS zip.

Accepted sources:

- a folder in nbgrader's layout, ``<student>/<assignment>/<notebook>.ipynb`` (the
  ``submitted/`` folder of another course, or an ``nbgrader collect`` result); the
  folder name is the student id, and a ``timestamp.txt`` beside the notebook is kept;
- a zip file exported by an LMS. Canvas names each file
  ``<name>_[LATE_]<user id>_<submission id>_<original name>``: the student id is the
  Canvas user id, the name is kept beside it, and so are the late flag and the
  submission time. Moodle puts each student's files in a folder
  ``<Full Name>_<id>_assignsubmission_file_/``; its id is per assignment, so the
  student id comes from the name there.

An import is planned whole before anything is written: a clash (two students who
would share an id, a student id that already belongs to someone else, a folder with
several notebooks none of which is named after the assignment) stops it with a
message naming both sides, and nothing is written. Each submission keeps its
identity and dates in ``dlf-submission.json`` beside the notebook; ``dlf grade``
copies them into the gradebook.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from autograder.instructor.workspace import SUBMISSION_META, Workspace
from autograder.nb.course import Assignment

_UNSAFE = re.compile(r"[^\w.-]+")
_CANVAS = re.compile(r"^(?P<name>.+?)_(?:(?P<late>LATE)_)?(?P<uid>\d+)_(?P<sid>\d+)_(?P<original>.+)$")
_MOODLE = re.compile(r"^(?P<name>.+)_(?P<pid>\d+)_assignsubmission_")
_COPY_SUFFIX = re.compile(r"(?:[-_ ]\(?\d+\)?)+$")  # "04_costs-1", "04_costs (2)": an LMS's copy counter


class ImportRefused(ValueError):
    """The import would lose or mix up a student's work; nothing was written."""


@dataclass(frozen=True)
class Identity:
    """Who handed a notebook in: the id the workspace files them under, and who that is."""

    id: str
    name: str
    lms_user_id: str | None = None
    lms_ref: str | None = None  # an id that is only unique within this export (Moodle's)

    def describe(self) -> str:
        ref = self.lms_user_id or self.lms_ref
        return f"{self.name!r} ({'LMS id ' + ref if ref else 'no LMS id'})"


@dataclass(frozen=True)
class Incoming:
    """One notebook found in the source, with what the source said about it."""

    who: Identity
    assignment: str
    data: bytes
    origin: str
    late: bool = False
    submitted_at: str | None = None  # ISO 8601, as the source gave it
    timestamp_txt: bytes | None = None
    original: str = ""  # the file name the student gave it
    order: tuple[bool, str, int] = (False, "", 0)  # (late, time, LMS file id): later hand-ins sort last
    notebook: str = ""  # which of the assignment's notebooks it is; "" for the one named after it

    @property
    def name(self) -> str:
        return self.notebook or self.assignment

    def meta(self) -> dict[str, object]:
        return {"student": self.who.id, "name": self.who.name, "lms_user_id": self.who.lms_user_id,
                "assignment": self.assignment, "late": self.late, "submitted_at": self.submitted_at,
                "source": self.origin}


@dataclass
class ImportSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"imported {len(self.added)} new, {len(self.updated)} updated, "
                 f"{len(self.unchanged)} unchanged submissions"]
        lines += [f"  note: {n}" for n in self.notes]
        lines += [f"  skipped {s}" for s in self.skipped]
        return "\n".join(lines)


def student_id(text: str) -> str:
    """A folder-safe id that keeps every letter of any script: 'Zoë Müller' -> 'zoë-müller'."""
    clean = _UNSAFE.sub("-", unicodedata.normalize("NFC", text).strip().casefold()).strip("-.")
    if not clean:
        raise ImportRefused(f"cannot make a student id from {text!r}: it has no letter or digit")
    return clean


def _match_assignment(name: str, known: list[str], given: str | None) -> str | None:
    if given:
        return given
    stem = name.lower()
    for assignment in sorted(known, key=len, reverse=True):
        if assignment.lower() in stem:
            return assignment
    return None


def _entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as its author wrote it: zips without the UTF-8 flag are often UTF-8 anyway."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def import_submissions(ws: Workspace, source: Path, *, assignment: str | None = None) -> ImportSummary:
    """Plan the whole import, refuse it if it would mix students up, then write it."""
    catalogue = {a.name: a for a in ws.assignments()}
    known = list(catalogue)
    if assignment is not None and assignment not in known:
        raise ValueError(f"unknown assignment {assignment!r}; the course has: {', '.join(known)}")
    summary = ImportSummary()
    if source.is_dir():
        incoming = _from_folder(source, catalogue, assignment, summary)
    elif source.suffix.lower() == ".zip" and source.is_file():
        if not zipfile.is_zipfile(source):
            raise ValueError(f"{source} is not a zip file (it may be damaged or only named .zip): "
                             "download the export from your LMS again")
        incoming = _from_zip(source, catalogue, assignment, summary)
    elif not source.exists():
        raise ValueError(f"{source} does not exist: give the folder that holds "
                         "<student>/<assignment>/ or the zip file your LMS exported")
    else:
        raise ValueError(f"{source} is neither a folder nor a zip file; give the folder that holds "
                         "<student>/<assignment>/ or the zip file your LMS exported")
    chosen = _one_per_student_and_assignment(incoming, summary)
    _refuse_clashes_with_workspace(ws, chosen)
    _write(ws, chosen, summary)
    return summary


def _from_folder(source: Path, catalogue: dict[str, Assignment], given: str | None,
                 summary: ImportSummary) -> list[Incoming]:
    known = list(catalogue)
    folders = sorted({p.parent for p in source.glob("*/*/*.ipynb") if ".ipynb_checkpoints" not in p.parts})
    if not folders:
        raise ValueError(f"no notebooks in {source}: expected <student>/<assignment>/<name>.ipynb")
    out: list[Incoming] = []
    for folder in folders:
        student_dir, assignment_dir = folder.parent.name, folder.name
        notebooks = sorted(folder.glob("*.ipynb"))
        assignment = given or (assignment_dir if assignment_dir in known else
                               _match_assignment(assignment_dir, known, None)
                               or (_match_assignment(notebooks[0].stem, known, None)
                                   if len(notebooks) == 1 else None))
        if assignment is None:
            summary.skipped.append(f"{folder} (no assignment called {assignment_dir!r})")
            continue
        names = catalogue[assignment].names
        where = f"{student_dir}/{assignment_dir}"
        if len(names) == 1:
            picked = {names[0]: pick_notebook(notebooks, names[0], where=where)}
        else:  # several notebooks: each by its name, as nbgrader collects them
            picked = {nb.stem: nb for nb in notebooks if nb.stem in names}
            summary.skipped.extend(f"{nb} (not one of {assignment}'s notebooks: {', '.join(names)})"
                                   for nb in notebooks if nb.stem not in names)
        stamp = folder / "timestamp.txt"
        who = Identity(student_id(student_dir), student_dir)
        out.extend(Incoming(who, assignment, nb.read_bytes(), str(nb),
                            submitted_at=_read_timestamp(stamp),
                            timestamp_txt=stamp.read_bytes() if stamp.is_file() else None,
                            notebook=name if name != assignment else "")
                   for name, nb in picked.items())
    return out


def pick_notebook(notebooks: list[Path], name: str, *, where: str) -> Path:
    """The notebook to grade in a folder: the only one, or the one called ``name`` (the
    assignment's notebook)."""
    if len(notebooks) == 1:
        return notebooks[0]
    named = [p for p in notebooks if p.stem == name]
    if len(named) == 1:
        return named[0]
    raise ImportRefused(f"{where} holds {len(notebooks)} notebooks "
                        f"({', '.join(p.name for p in notebooks)}) and none is named {name}.ipynb: "
                        f"keep the one to grade, or rename it to {name}.ipynb")


def _read_timestamp(path: Path) -> str | None:
    if not path.is_file():
        return None
    text = path.read_text(errors="replace").strip()
    return text or None


def _from_zip(source: Path, catalogue: dict[str, Assignment], given: str | None,
              summary: ImportSummary) -> list[Incoming]:
    known = list(catalogue)
    out = []
    with zipfile.ZipFile(source) as archive:
        entries = [i for i in archive.infolist()
                   if i.filename.endswith(".ipynb") and not i.is_dir()
                   and "__MACOSX" not in i.filename and ".ipynb_checkpoints" not in i.filename]
        if not entries:
            raise ValueError(f"{source} holds no .ipynb file")
        for info in entries:
            name = _entry_name(info)
            path = PurePosixPath(name)
            when = datetime(*info.date_time).isoformat()
            late, order = False, (False, when, 0)
            moodle = _MOODLE.match(path.parts[-2]) if len(path.parts) > 1 else None
            if moodle:
                who = Identity(student_id(moodle["name"]), moodle["name"], None, moodle["pid"])
                original = path.name
            elif m := _CANVAS.match(path.name):
                who = Identity(m["uid"], m["name"], m["uid"])
                late, original = bool(m["late"]), m["original"]
                order = (late, when, int(m["sid"]))
            else:
                summary.skipped.append(f"{name} (neither a Canvas nor a Moodle file name)")
                continue
            assignment = _match_assignment(original, known, given)
            if assignment is None:
                summary.skipped.append(f"{name} (its name names no assignment; use --assignment)")
                continue
            names = catalogue[assignment].names
            notebook = names[0]
            if len(names) > 1:  # several notebooks: the file's own name says which
                notebook = _COPY_SUFFIX.sub("", PurePosixPath(original).stem)
                if notebook not in names:
                    summary.skipped.append(f"{name} (not one of {assignment}'s notebooks: {', '.join(names)})")
                    continue
            out.append(Incoming(who, assignment, archive.read(info), f"{source.name}: {name}",
                                late=late, submitted_at=when, original=original, order=order,
                                notebook=notebook if notebook != assignment else ""))
    return out


def _one_per_student_and_assignment(incoming: list[Incoming], summary: ImportSummary) -> list[Incoming]:
    """Keep the latest submission of each student; refuse two people under one id."""
    by_id: dict[str, list[Incoming]] = {}
    for item in incoming:
        by_id.setdefault(item.who.id, []).append(item)
    for sid, items in by_id.items():
        people = {(i.who.lms_user_id, i.who.lms_ref) if (i.who.lms_user_id or i.who.lms_ref)
                  else (None, i.who.name) for i in items}
        if len(people) > 1:
            a = items[0]
            b = next(i for i in items if i.who != a.who)
            raise ImportRefused(f"two students would share the id {sid!r}: {a.who.describe()} from "
                                f"{a.origin} and {b.who.describe()} from {b.origin}; nothing was "
                                "imported. Rename one folder or import them separately")
    groups: dict[tuple[str, str, str], list[Incoming]] = {}
    for item in incoming:
        groups.setdefault((item.who.id, item.assignment, item.name), []).append(item)
    out = []
    for (sid, assignment, notebook), items in sorted(groups.items()):
        # one hand-in is the files with the same late flag and time (Canvas numbers each file)
        latest = max(i.order[:2] for i in items)
        last = sorted((i for i in items if i.order[:2] == latest), key=lambda i: i.order)
        if len(last) > 1:  # one hand-in with several notebooks: only the assignment's name decides
            named = [i for i in last if _COPY_SUFFIX.sub("", PurePosixPath(i.original).stem) == notebook]
            if len(named) != 1:
                raise ImportRefused(
                    f"{last[0].who.describe()} handed in {len(last)} notebooks for {assignment} "
                    f"({', '.join(sorted(i.original for i in last))}) and "
                    f"{'none' if not named else 'more than one'} is named {notebook}.ipynb: "
                    "nothing was imported. Remove the ones not to grade from the export, "
                    "or import this student's notebook alone with --assignment")
            last = named
        keep = last[0]
        if len(items) > 1:
            others = "; ".join(i.origin for i in items if i is not keep)
            where = f"{sid}/{assignment}" + (f"/{notebook}" if notebook != assignment else "")
            summary.notes.append(f"{where}: {len(items)} notebooks; kept the latest, "
                                 f"{keep.origin}{' (LATE)' if keep.late else ''}; ignored {others}")
        out.append(keep)
    return out


def existing_identity(ws: Workspace, sid: str) -> dict[str, object] | None:
    """What an earlier import said about student ``sid``, if anything."""
    folder = ws.submitted / sid
    if not folder.is_dir():
        return None
    for meta in sorted(folder.glob(f"*/{SUBMISSION_META}")):
        try:
            data = json.loads(meta.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            return data
    return None


def _refuse_clashes_with_workspace(ws: Workspace, chosen: list[Incoming]) -> None:
    for item in chosen:
        before = existing_identity(ws, item.who.id)
        if before is None:
            continue
        old_lms, old_name = before.get("lms_user_id"), before.get("name")
        same = (old_lms == item.who.lms_user_id) if (old_lms or item.who.lms_user_id) else (
            old_name == item.who.name)
        if not same:
            old = Identity(item.who.id, str(old_name), str(old_lms) if old_lms else None)
            raise ImportRefused(f"the id {item.who.id!r} already belongs to {old.describe()} in "
                                f"{ws.submitted / item.who.id}; {item.who.describe()} from {item.origin} "
                                "would overwrite their work. Nothing was imported")


def _write(ws: Workspace, chosen: list[Incoming], summary: ImportSummary) -> None:
    """Every file goes to a temporary name first; the renames happen only when all are written."""
    staged: list[tuple[Path, Path]] = []
    hand_ins: dict[tuple[str, str], list[Incoming]] = {}
    for item in chosen:
        hand_ins.setdefault((item.who.id, item.assignment), []).append(item)
    try:
        for (sid, assignment), items in hand_ins.items():
            folder = ws.submitted / sid / assignment
            label = f"{sid}/{assignment}"
            about = items[0].meta()
            if len(items) > 1:
                about["source"] = "; ".join(i.origin for i in items)
            meta = json.dumps(about, indent=1, ensure_ascii=False).encode()
            files = {folder / f"{i.name}.ipynb": i.data for i in items}
            targets = list(files)
            files[folder / SUBMISSION_META] = meta
            stamp = next((i.timestamp_txt for i in items if i.timestamp_txt is not None), None)
            if stamp is not None:
                files[folder / "timestamp.txt"] = stamp
            if all(p.is_file() and p.read_bytes() == data for p, data in files.items()):
                summary.unchanged.append(label)
                continue
            (summary.updated if any(t.exists() for t in targets) else summary.added).append(label)
            for path, data in files.items():
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.importing")
                tmp.write_bytes(data)
                staged.append((tmp, path))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, path in staged:
        tmp.replace(path)
