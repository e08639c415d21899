"""A synthetic class to exercise the whole pipeline: realistic mistakes, blanks and a few attacks.

Each student starts from the release notebook. An answer cell is then the solution's
(probability = the student's ability), one of the catalogued plausible mistakes, or left
blank. Two students hand in the untouched release, one hands in the solution, and a few
are hostile. Everything is drawn from one seed, so the class is the same on every run.
"""

from __future__ import annotations

import copy
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
from nbformat import NotebookNode

from autograder.instructor.workspace import Workspace
from autograder.nb.course import Assignment, assignments, is_answer, is_test, is_written, nbgrader_meta, read

FIRST = ["amara", "bruno", "chen", "dalia", "emeka", "farah", "goran", "hana", "ines", "jonas",
         "kofi", "lena", "mateo", "nadia", "omar", "priya", "quinn", "rosa", "sami", "tariq",
         "uma", "vik", "wen", "xena", "yusuf", "zoe", "aiko", "bela", "cyrus", "dora", "eli",
         "fynn", "gia", "hugo", "ivy", "jade", "kai", "lio", "mina", "noor", "otto", "pia"]

HOSTILE = {
    "infinite-loop": "while True:\n    pass",
    "patches-checks": ("import autograder.checks as c, numpy as np\nnp.allclose = lambda *a, **k: True\n"
                       "c.check = lambda *a, **k: None"),
    "kills-kernel": "import os\nos._exit(1)",
    "reads-solutions": ("import pathlib, autograder\nroot = pathlib.Path(autograder.__file__).parents[1]\n"
                        "print([p.name for p in (root / 'solutions').rglob('*.ipynb')])"),
}


@dataclass(frozen=True)
class Student:
    name: str
    kind: str  # "regular", "blank", "key", a HOSTILE key, "malformed", "deleted-tests"
    ability: float


def roster(n_students: int, seed: int = 2026) -> list[Student]:
    if n_students < 10:
        raise ValueError(f"a sample class needs at least 10 students, got {n_students}")
    rng = np.random.default_rng(seed)
    special = ["key", "blank", "blank", *HOSTILE, "malformed", "deleted-tests"]
    students = []
    for i in range(n_students):
        kind = special[i] if i < len(special) else "regular"
        ability = float(np.clip(rng.beta(5, 2), 0.2, 1.0))
        name = f"s{i + 1:03d}-{FIRST[i % len(FIRST)]}"
        students.append(Student(name, kind, ability))
    return students


def _catalogue(root: Path, assignment: Assignment) -> dict[str, list[str]]:
    path = root / "tests" / "notebooks" / "mutants" / f"{assignment.number}.toml"
    if not path.exists():
        return {}
    out: dict[str, list[str]] = {}
    for mutant in tomllib.loads(path.read_text()).get("mutant", []):
        out.setdefault(mutant["cell"], []).append(mutant["source"])
    return out


def _answer_sources(nb: NotebookNode) -> dict[str, str]:
    return {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells if is_answer(c)}


def submission(assignment: Assignment, student: Student, rng: np.random.Generator,
               root: Path) -> NotebookNode | str:
    release = read(assignment.release)
    if student.kind == "blank":
        return release
    if student.kind == "malformed":
        return nbformat.writes(release)[: len(nbformat.writes(release)) // 2]
    solutions = _answer_sources(read(assignment.source))
    mutants = _catalogue(root, assignment)
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if is_answer(cell) and gid in solutions:
            if student.kind == "key" or rng.random() < student.ability:
                cell.source = solutions[gid]
            elif mutants.get(gid) and rng.random() < 0.75:
                cell.source = mutants[gid][int(rng.integers(len(mutants[gid])))]
        elif is_written(cell) and rng.random() < 0.8:
            cell.source = "The hidden layer re-maps the points so that a single line separates them."
    if student.kind in HOSTILE:
        at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code") + 1
        nb.cells.insert(at, nbformat.v4.new_code_cell(HOSTILE[student.kind]))
    if student.kind == "deleted-tests":
        nb.cells = [c for c in nb.cells if not is_test(c)]
    return nb


def generate(ws: Workspace, *, n_students: int = 42, names: list[str] | None = None,
             seed: int = 2026) -> list[Student]:
    """Write the class into ``ws.submitted`` (replacing what was there)."""
    chosen = [a for a in assignments(ws.root) if names is None or a.name in names]
    if not chosen:
        raise ValueError("no assignment to hand in: check the names against solutions/")
    if ws.submitted.exists():
        shutil.rmtree(ws.submitted)
    rng = np.random.default_rng(seed)
    students = roster(n_students, seed)
    for student in students:
        for assignment in chosen:
            nb = submission(assignment, student, rng, ws.root)
            folder = ws.submitted / student.name / assignment.name
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{assignment.name}.ipynb"
            if isinstance(nb, str):
                path.write_text(nb)
            else:
                nbformat.write(nb, str(path))
    return students
