"""Small classes on notebook 4 for the instructor tests, and the ``dlf`` runner they share."""

from __future__ import annotations

import copy
import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import nbformat

from autograder.cli import main
from autograder.nb.course import Assignment, assignments, is_answer, nbgrader_meta, read

ASSIGNMENT: Assignment = next(a for a in assignments() if a.name.startswith("04"))
NAME = ASSIGNMENT.name


def dlf(*args: str, code: int | None = 0) -> tuple[str, str]:
    """Run ``dlf`` in-process; return (stdout, stderr) and check the exit status."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(list(args))
    if code is not None:
        assert status == code, f"exit {status}\nstdout:\n{out.getvalue()}\nstderr:\n{err.getvalue()}"
    return out.getvalue(), err.getvalue()


def write(path: Path, nb: nbformat.NotebookNode) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def key() -> nbformat.NotebookNode:
    return read(ASSIGNMENT.source)


def blank() -> nbformat.NotebookNode:
    return read(ASSIGNMENT.release)


def wrong() -> nbformat.NotebookNode:
    """The key with a sign error in ``cross_entropy``: its visible and hidden checks fail."""
    nb = copy.deepcopy(key())
    cell = next(c for c in nb.cells if is_answer(c) and nbgrader_meta(c)["grade_id"] == "cross_entropy")
    cell.source = cell.source.replace("return float(-np.mean", "return float(np.mean")
    return nb


def wrong_eps_default() -> nbformat.NotebookNode:
    """The key with 1e-8 for ``cross_entropy``'s default eps (1e-12 is asked): the visible
    cases pass (the one that needs eps gives it), hidden ones that rely on the default fail."""
    nb = copy.deepcopy(key())
    cell = next(c for c in nb.cells if is_answer(c) and nbgrader_meta(c)["grade_id"] == "cross_entropy")
    cell.source = cell.source.replace("def cross_entropy(probs, y, eps=1e-12):",
                                      "def cross_entropy(probs, y, eps=1e-8):")
    assert "eps=1e-8" in cell.source
    return nb


def snooping() -> nbformat.NotebookNode:
    """The key, but ``cross_entropy`` keeps the inputs it is called with and a last cell prints them."""
    nb = copy.deepcopy(key())
    cell = next(c for c in nb.cells if is_answer(c) and nbgrader_meta(c)["grade_id"] == "cross_entropy")
    cell.source = "SEEN = []\n" + cell.source.replace(
        "    ### BEGIN SOLUTION\n", "    ### BEGIN SOLUTION\n    SEEN.append(np.shape(probs))\n", 1)
    nb.cells.append(nbformat.v4.new_code_cell('print("SNOOPED", SEEN)'))
    return nb


def incoming(folder: Path, students: dict[str, nbformat.NotebookNode]) -> Path:
    for student, nb in students.items():
        write(folder / student / NAME / f"{NAME}.ipynb", nb)
    return folder


def nbgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done
