"""Run a notebook's answer and test cells in-process, for the mutation catalogues.

The answer cells of the source notebook are executed in order in one namespace (after
the setup cell), with one of them swapped for a mutant or an alternative; then the
test cells run as they would in the notebook. No kernel, no plots, no experiments.
``visible_failures`` runs only what the student's release runs: the test cells without
their hidden blocks, judged on the student's side from the shipped visible data.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from autograder.checks import CheckFailed, guard
from autograder.nb.course import Assignment, is_answer, is_test, nbgrader_meta, read

HERE = Path(__file__).resolve().parent
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)


@dataclass(frozen=True)
class Variant:
    cell: str
    name: str
    source: str
    warned: str = ""  # the notebook warns about this mistake: a visible check must name it


def visible_part(source: str) -> str:
    """A test cell as the release has it: the block between the hidden-test markers removed."""
    return HIDDEN.sub("", source)


@contextlib.contextmanager
def student_side() -> Iterator[None]:
    """Checks decide as in the student's kernel: from the shipped visible data alone."""
    import autograder.checks as checks

    saved = checks._grader_installed, guard.loaded_forbidden
    checks._grader_installed = lambda: False  # type: ignore[assignment]
    guard.loaded_forbidden = lambda notebook: []  # the test process has imported the grader
    try:
        yield
    finally:
        checks._grader_installed, guard.loaded_forbidden = saved  # type: ignore[assignment]


def catalogue(kind: str, assignment: Assignment) -> list[Variant]:
    """``kind`` is "mutants" or "alternatives"; the file is ``<kind>/<NN>.toml``."""
    path = HERE / kind / f"{assignment.number}.toml"
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text())
    key = "mutant" if kind == "mutants" else "alternative"
    return [Variant(v["cell"], v["name"], v["source"], v.get("warned", "")) for v in data.get(key, [])]


@dataclass
class Score:
    points: float
    max_points: float
    failures: list[str]


class InProcessNotebook:
    def __init__(self, assignment: Assignment) -> None:
        self.assignment = assignment
        nb: NotebookNode = read(assignment.source)
        code_cells = [c for c in nb.cells if c.cell_type == "code"]
        self.setup = code_cells[0].source
        self.answers = {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells if is_answer(c)}
        self.tests = [(nbgrader_meta(c)["grade_id"], float(nbgrader_meta(c).get("points", 0)),
                       c.source) for c in nb.cells if is_test(c)]
        # The tests that follow an answer cell, up to the next answer, are its own.
        self.owned: dict[str, list[str]] = {}
        owner: str | None = None
        for cell in nb.cells:
            if is_answer(cell):
                owner = nbgrader_meta(cell)["grade_id"]
                self.owned.setdefault(owner, [])
            elif is_test(cell) and owner is not None:
                self.owned[owner].append(nbgrader_meta(cell)["grade_id"])

    def affected_tests(self, cell: str) -> set[str]:
        """The tests of ``cell`` and of every later answer cell that uses a name it defines."""
        tree = ast.parse(self.answers[cell])
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
        names |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
                  if isinstance(t, ast.Name)}
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b") if names else None
        affected = set(self.owned.get(cell, []))
        for other, src in self.answers.items():
            if other != cell and pattern is not None and pattern.search(src):
                affected |= set(self.owned.get(other, []))
        return affected

    def score(self, replace: Variant | None = None, *, stop_at_first_failure: bool = False,
              only: set[str] | None = None) -> Score:
        if replace is not None and replace.cell not in self.answers:
            raise KeyError(f"{replace.name!r} replaces unknown answer cell {replace.cell!r}; "
                           f"answer cells: {sorted(self.answers)}")
        ns: dict[str, Any] = {"__name__": "__notebook__"}
        sink = io.StringIO()
        max_points = sum(p for gid, p, _ in self.tests if only is None or gid in only)
        with contextlib.redirect_stdout(sink):
            exec(compile(self.setup, "<setup>", "exec"), ns)
            for gid, src in self.answers.items():
                if replace is not None and gid == replace.cell:
                    src = replace.source
                try:
                    exec(compile(src, f"<answer {gid}>", "exec"), ns)
                except Exception:
                    continue  # a broken answer cell leaves its names undefined
            points, failures = 0.0, []
            tests = [t for t in self.tests if only is None or t[0] in only]
            if replace is not None:  # its own tests first: a mutant usually fails there
                own = set(self.owned.get(replace.cell, []))
                tests = sorted(tests, key=lambda t: t[0] not in own)
            for gid, pts, src in tests:
                try:
                    exec(compile(src, f"<test {gid}>", "exec"), ns)
                except (CheckFailed, Exception) as exc:
                    failures.append(f"{gid}: {type(exc).__name__}: {str(exc)[:300]}")
                    if stop_at_first_failure:
                        break
                    continue
                points += pts
        return Score(points, max_points, failures)

    def visible_failures(self, replace: Variant, *, graded: bool = False) -> list[str]:
        """The messages of the visible checks that fail with ``replace`` in place, in full:
        judged as in the student's kernel, or with ``graded`` as the grader judges them."""
        ns: dict[str, Any] = {"__name__": "__notebook__"}
        own = set(self.owned.get(replace.cell, [])) | self.affected_tests(replace.cell)
        failures = []
        side = contextlib.nullcontext() if graded else student_side()
        with contextlib.redirect_stdout(io.StringIO()), side:
            exec(compile(self.setup, "<setup>", "exec"), ns)
            for gid, src in self.answers.items():
                try:
                    exec(compile(replace.source if gid == replace.cell else src,
                                 f"<answer {gid}>", "exec"), ns)
                except Exception:
                    continue
            for gid, _, src in self.tests:
                if gid not in own:
                    continue
                try:
                    exec(compile(visible_part(src), f"<test {gid}>", "exec"), ns)
                except Exception as exc:
                    failures.append(f"{gid}: {type(exc).__name__}: {exc}")
        return failures
