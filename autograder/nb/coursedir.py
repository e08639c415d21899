"""Another nbgrader course: its configuration, its assignments, their notebooks and files.

``dlf … --course ROOT`` grades any nbgrader course. ROOT holds the course's
``nbgrader_config.py``, read with traitlets as nbgrader reads it; where things are is
what nbgrader's ``CourseDirectory`` says (``source_directory``, ``submitted_directory``,
``autograded_directory``, ``feedback_directory``, ``db_url``, ``ignore``). An
assignment is a folder of source notebooks, ``<source>/<assignment>/*.ipynb``, each
graded and recorded under its own name, as nbgrader does. The other files of that folder
(data, helper modules) are the ones nbgrader copies beside a notebook before it runs it:
``own_files`` lists them, so the sandbox gets copies of them and never the folder.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from autograder.nb.course import Assignment

CONFIG_FILE = "nbgrader_config.py"
DEFAULT_STRUCTURE = os.path.join("{nbgrader_step}", "{student_id}", "{assignment_id}")


def load_config(folder: Path) -> Config:
    """The ``nbgrader_config.py`` in ``folder``, as nbgrader loads it."""
    if not (folder / CONFIG_FILE).is_file():
        raise ValueError(f"no {CONFIG_FILE} in {folder}: --course takes an nbgrader course folder "
                         "(the one you run nbgrader's commands from)")
    config: Config = PyFileConfigLoader(CONFIG_FILE, path=str(folder)).load_config()
    return config


@dataclass(frozen=True)
class Course:
    """An nbgrader course folder, resolved from its configuration (paths are absolute)."""

    folder: Path  # where nbgrader_config.py is
    root: Path  # CourseDirectory.root
    source: Path
    submitted: Path
    autograded: Path
    feedback: Path
    db_url: str
    ignore: tuple[str, ...]
    exclude_overwriting: tuple[tuple[str, tuple[str, ...]], ...] = ()  # Autograde.exclude_overwriting
    ignore_stderr: str | None = None  # IgnorePattern.pattern, when the course enables it

    @classmethod
    def load(cls, folder: Path) -> Course:
        from nbgrader.coursedir import CourseDirectory

        folder = folder.resolve()
        config = load_config(folder)
        if "root" not in config.CourseDirectory:
            config.CourseDirectory.root = str(folder)  # nbgrader's default: the folder it runs from
        elif not os.path.isabs(config.CourseDirectory.root):
            config.CourseDirectory.root = str(folder / config.CourseDirectory.root)
        coursedir = CourseDirectory(config=config)
        if coursedir.directory_structure != DEFAULT_STRUCTURE:
            raise ValueError(f"{folder / CONFIG_FILE} sets CourseDirectory.directory_structure to "
                             f"{coursedir.directory_structure!r}; dlf reads nbgrader's default layout "
                             f"{DEFAULT_STRUCTURE!r} only")
        db_url = str(coursedir.db_url)
        if not db_url.startswith("sqlite:///"):
            raise ValueError(f"the course's gradebook is {db_url!r}; dlf works with a SQLite gradebook "
                             "(CourseDirectory.db_url = 'sqlite:///…')")
        root = Path(coursedir.root)
        pattern = config.IgnorePattern.get("pattern") if config.IgnorePattern.get("enabled") else None
        excluded = dict(config.Autograde.get("exclude_overwriting", {}))
        return cls(folder=folder, root=root,
                   source=Path(coursedir.format_path(coursedir.source_directory, ".", "")),
                   submitted=root / coursedir.submitted_directory,
                   autograded=root / coursedir.autograded_directory,
                   feedback=root / coursedir.feedback_directory,
                   db_url=db_url, ignore=tuple(coursedir.ignore),
                   exclude_overwriting=tuple((str(k), tuple(map(str, v))) for k, v in excluded.items()),
                   ignore_stderr=str(pattern) if pattern else None)

    @property
    def gradebook(self) -> Path:
        return Path(self.db_url[len("sqlite:///"):])

    def config(self) -> Config:
        """The course's configuration, loaded afresh (nbgrader's own commands take it)."""
        config = load_config(self.folder)
        config.CourseDirectory.root = str(self.root)
        return config

    def feedback_copies_results(self) -> bool:
        """True when nbgrader's generate_feedback would copy dlf's ``*.result.json`` (which hold
        the grader's full messages) into feedback/: the course's ``ignore`` does not cover them."""
        return not any(fnmatch.fnmatch(name, pattern) for pattern in self.ignore
                       for name in ("p1.result.json", "result.json"))

    def assignments(self) -> list[Assignment]:
        """Every folder of the source directory with a notebook, by name."""
        if not self.source.is_dir():
            return []
        out = []
        for folder in sorted(p for p in self.source.iterdir() if p.is_dir() and not p.name.startswith(".")):
            names = tuple(sorted(p.stem for p in folder.glob("*.ipynb") if not p.name.startswith(".")))
            if names:
                out.append(Assignment(folder.name, self.root, notebooks=names, source_folder=folder))
        return out

    def own_files(self, assignment: Assignment) -> tuple[tuple[str, str], ...]:
        """What nbgrader copies beside the notebooks from the assignment's source folder:
        every file but notebooks and the course's ``ignore`` patterns, less the files the
        course lets students hand in instead (``exclude_overwriting``); ``(name, path)``."""
        from nbgrader.utils import find_all_files

        folder = assignment.folder
        excluded = {os.path.normpath(x) for a, names in self.exclude_overwriting if a == assignment.name
                    for x in names}
        found = find_all_files(str(folder), [*self.ignore, "*.ipynb"])
        pairs = [(Path(os.path.relpath(f, folder)).as_posix(), str(f)) for f in found]
        return tuple(sorted((name, path) for name, path in pairs if os.path.normpath(name) not in excluded))
