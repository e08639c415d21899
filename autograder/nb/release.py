"""Generate the student release: nbgrader's generate_assignment, and the visible check data.

``notebooks/`` gets the release notebooks; ``autograder/exercises/`` gets each notebook's
visible check data, written from the grader's specifications.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

import nbformat
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from autograder.nb.course import (
    ROOT,
    assignments,
    ensure_tools_on_path,
    fast_gradebook,
    is_test,
    nbgrader_meta,
)
from autograder.nb.coursedir import Course
from autograder.specs.export import exercises_text, write_exercises


def load_config(root: Path = ROOT) -> Config:
    """The course's nbgrader configuration (``course/nbgrader_config.py``)."""
    return PyFileConfigLoader("nbgrader_config.py", path=str(root / "course")).load_config()


class ReleaseError(RuntimeError):
    """nbgrader could not generate an assignment; the message carries its log."""


def generate(*, root: Path = ROOT, out_dir: Path | None = None, db_url: str | None = None,
             names: list[str] | None = None, exercises: bool = True) -> list[Path]:
    """Write the release of each assignment (all by default) into ``out_dir`` (``notebooks/``).

    ``db_url`` defaults to a throw-away gradebook, so building a release never touches
    the instructor's; ``dlf grade`` registers assignments in the real one (and asks for
    no visible check data: ``exercises=False``).
    """
    ensure_tools_on_path()
    fast_gradebook()
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    chosen = [a for a in assignments(root) if names is None or a.name in names]
    if names is not None and len(chosen) != len(names):
        known = ", ".join(a.name for a in assignments(root))
        missing = set(names) - {a.name for a in chosen}
        raise ValueError(f"no source notebook for {sorted(missing)}; known assignments: {known}")
    out_dir = (out_dir or root / "notebooks").resolve()
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="dlf-release-") as tmp:
        config = load_config(root)
        config.CourseDirectory.release_directory = str(Path(tmp) / "release")
        config.CourseDirectory.db_url = db_url or f"sqlite:///{Path(tmp) / 'gradebook.db'}"
        coursedir = CourseDirectory(config=config)
        api = NbGraderAPI(coursedir, config=config)
        for assignment in chosen:
            result = api.generate_assignment(assignment.name, force=True, create=True)
            if not result.get("success"):
                raise ReleaseError(f"nbgrader could not generate {assignment.name}:\n"
                                   f"{result.get('error') or result.get('log')}")
            built = Path(tmp) / "release" / assignment.name
            target = out_dir / assignment.name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(built, target)
            for nb_path in target.glob("*.ipynb"):
                _normalise(nb_path)
                written.append(nb_path)
    if exercises:
        written += write_exercises([a.number for a in chosen], exercises_dir(root, out_dir))
    return written


def register(course: Course, names: list[str], *, db_url: str, out_dir: Path) -> dict[tuple[str, str], Path]:
    """Another nbgrader course's assignments into the gradebook at ``db_url``: nbgrader's
    generate_assignment with the course's configuration, run from the course's folder as
    nbgrader is (it looks for ``autotests.yml`` there), into ``out_dir``.

    Returns, for each notebook whose test cells generate_assignment rewrote (``### AUTOTEST``
    lines become asserts), its source notebook with the test cells as the gradebook now
    holds them, written under ``out_dir``: what ``nbgrader autograde`` runs.
    """
    ensure_tools_on_path()
    fast_gradebook()
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = course.config()
    config.CourseDirectory.release_directory = str(out_dir / "release")
    config.CourseDirectory.db_url = db_url
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    with contextlib.chdir(course.root):
        for name in names:
            result = api.generate_assignment(name, force=True, create=True)
            if not result.get("success"):
                raise ReleaseError(f"nbgrader could not register {name} of {course.root}:\n"
                                   f"{result.get('error') or result.get('log')}")
    return _tests_as_recorded(course, names, db_url, out_dir / "sources")


def _tests_as_recorded(course: Course, names: list[str], db_url: str,
                       out_dir: Path) -> dict[tuple[str, str], Path]:
    from nbgrader.api import Gradebook

    out: dict[tuple[str, str], Path] = {}
    with Gradebook(db_url) as gb:
        for assignment in course.assignments():
            if assignment.name not in names:
                continue
            for notebook in assignment.names:
                recorded = {c.name: c.source for c in gb.find_notebook(notebook, assignment.name).source_cells}
                nb = nbformat.read(str(assignment.source_of(notebook)), as_version=4)
                rewritten = [cell for cell in nb.cells if is_test(cell)
                             and recorded.get(nbgrader_meta(cell).get("grade_id"), cell.source) != cell.source]
                for cell in rewritten:
                    cell.source = recorded[nbgrader_meta(cell)["grade_id"]]
                if rewritten:
                    path = out_dir / assignment.name / f"{notebook}.ipynb"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    nbformat.write(nb, str(path))
                    out[(assignment.name, notebook)] = path
    return out


def exercises_dir(root: Path, out_dir: Path) -> Path:
    """Where the exercises data goes: the package's own folder for the real release."""
    if out_dir == (root / "notebooks").resolve():
        return root / "autograder" / "exercises"
    return out_dir / "_exercises"


def _normalise(path: Path) -> None:
    """Stable bytes: no outputs, no execution counts, the same JSON layout every time."""
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(nb, str(path))


def stale(root: Path = ROOT) -> list[str]:
    """Assignments whose committed release differs from what ``generate`` produces now."""
    with tempfile.TemporaryDirectory(prefix="dlf-release-check-") as tmp:
        generate(root=root, out_dir=Path(tmp))
        out = []
        for assignment in assignments(root):
            fresh = Path(tmp) / assignment.name / f"{assignment.name}.ipynb"
            if not assignment.release.exists() or (
                    assignment.release.read_bytes() != fresh.read_bytes()):
                out.append(assignment.name)
            data = root / "autograder" / "exercises" / f"nb{assignment.number}.json"
            if not data.exists() or data.read_text("utf-8") != exercises_text(assignment.number):
                out.append(f"autograder/exercises/nb{assignment.number}.json")
        return out

