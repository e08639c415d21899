"""Where things are in the course repository, and what nbgrader metadata says about cells."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Assignment:
    """An assignment: a folder of source notebooks, each graded under its own name.

    This course's (``solutions/<name>/<name>.ipynb`` → ``notebooks/<name>/``) have one
    notebook, named after the assignment; another nbgrader course's
    (``autograder.nb.coursedir``) give their ``notebooks`` and ``source_folder``.
    """

    name: str
    root: Path = ROOT
    notebooks: tuple[str, ...] = ()  # () for this course's: the one named after the assignment
    source_folder: Path | None = None  # None for this course's: solutions/<name>/

    @property
    def number(self) -> str:
        return self.name.split("_", 1)[0]

    @property
    def folder(self) -> Path:
        return self.source_folder or self.root / "solutions" / self.name

    @property
    def names(self) -> tuple[str, ...]:
        """Its notebooks' names, as the gradebook records them."""
        return self.notebooks or (self.name,)

    def source_of(self, notebook: str) -> Path:
        return self.folder / f"{notebook}.ipynb"

    @property
    def source(self) -> Path:
        """The source notebook of a one-notebook assignment (as every one of this course is)."""
        if len(self.names) != 1:
            raise ValueError(f"{self.name} has {len(self.names)} notebooks: name one of "
                             f"{', '.join(self.names)}")
        return self.source_of(self.names[0])

    @property
    def release(self) -> Path:
        return self.root / "notebooks" / self.name / f"{self.name}.ipynb"


def assignments(root: Path = ROOT) -> list[Assignment]:
    """Every assignment with a source notebook, in teaching order."""
    found = sorted(p.parent.name for p in (root / "solutions").glob("*/*.ipynb")
                   if p.stem == p.parent.name and not p.parent.name.startswith("."))
    return [Assignment(name, root) for name in found]


def nbgrader_meta(cell: NotebookNode) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return dict(meta) if isinstance(meta, dict) else {}


def is_test(cell: NotebookNode) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.cell_type == "code"


def is_answer(cell: NotebookNode) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("solution")) and not meta.get("grade") and cell.cell_type == "code"


def is_written(cell: NotebookNode) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and bool(meta.get("solution"))


def read(path: Path) -> NotebookNode:
    return nbformat.read(str(path), as_version=4)


@dataclass(frozen=True)
class CheckCall:
    check_id: str
    hidden: bool
    lines: tuple[int, int] = field(default=(0, 0), compare=False)  # first and last source line


def check_calls(source: str) -> list[CheckCall]:
    """The ``check("id", ..., hidden=...)`` calls a test cell makes, in order."""
    calls: list[CheckCall] = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "check" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            hidden = any(k.arg == "hidden" and isinstance(k.value, ast.Constant)
                         and k.value.value is True for k in node.keywords)
            calls.append(CheckCall(node.args[0].value, hidden,
                                   (node.lineno, node.end_lineno or node.lineno)))
    return sorted(calls, key=lambda c: c.lines)


def ensure_tools_on_path() -> None:
    """nbgrader shells out to ``alembic`` and ``jupyter``: find them beside this Python."""
    import os
    import sys

    bin_dir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if bin_dir not in parts:
        os.environ["PATH"] = os.pathsep.join([bin_dir, *parts])


def fast_gradebook() -> None:
    """Ask alembic for nbgrader's schema head in-process instead of in a subprocess.

    nbgrader runs ``alembic heads`` as a child process every time it opens a fresh
    gradebook, which costs seconds; the answer is a constant of the installed nbgrader.
    """
    import functools

    import nbgrader.api
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    if getattr(nbgrader.api.get_alembic_version, "_dlf", False):
        return

    @functools.cache
    def head() -> str:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(Path(nbgrader.api.__file__).parent / "alembic"))
        heads = ScriptDirectory.from_config(cfg).get_heads()
        return str(heads[0])

    head._dlf = True  # type: ignore[attr-defined]
    nbgrader.api.get_alembic_version = head
