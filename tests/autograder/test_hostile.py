"""Hostile submissions: each is graded without crashing the batch, raising no score, with a reason.

Every case is the blank release of notebook 1 (worth zero) or its solution (full marks),
with one hostile cell added; the whole set is graded once, two workers at a time.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat
import pytest

from autograder.grading import NotebookResult
from autograder.grading.batch import Job, grade_many
from autograder.nb.course import ROOT, Assignment, assignments, is_answer, is_test, nbgrader_meta, read
from autograder.sandbox.limits import Limits

ASSIGNMENT: Assignment = assignments()[0]
MARKER = "dlf-hostile-marker"

HOSTILE: dict[str, str] = {
    "infinite_loop": "while True:\n    pass",
    "os_exit": "import os\nos._exit(3)",
    "segfault": "import ctypes\nctypes.string_at(0)",
    "memory_bomb": "blocks = []\nwhile True:\n    blocks.append(bytearray(256 * 1024**2))",
    "fork_bomb": (
        "import os, time\nkids = 0\nfor _ in range(500):\n    try:\n        if os.fork() == 0:\n"
        "            time.sleep(60)\n            os._exit(0)\n        kids += 1\n    except OSError:\n"
        "        break\nprint('forked', kids)"),
    "sys_exit": "import sys\nsys.exit(0)",
    "input": "name = input('who are you? ')",
    "print_flood": "for i in range(200_000):\n    print('line', i)",
    "read_solutions": (
        f"import pathlib\nsrc = pathlib.Path({str(ROOT / 'solutions')!r})\n"
        "print('SEEN', sorted(p.name for p in src.rglob('*.ipynb')))"),
    "read_gradebook": (
        f"print('SEEN', open({str(ROOT / 'course' / 'nbgrader_config.py')!r}).read()[:50])"),
    "write_gradebook": (
        f"open({str(ROOT / 'course' / 'gradebook.db')!r}, 'w').write('overwritten')"),
    "setsid_background": (
        "import subprocess\nsubprocess.Popen(['sleep', '300', '" + MARKER + "'], "
        "start_new_session=True)\nsubprocess.Popen('(sleep 300; echo " + MARKER + ") &', shell=True,"
        " start_new_session=True)"),
    "patch_numpy": (
        "import numpy as np, numpy.testing\nnp.allclose = lambda *a, **k: True\n"
        "np.isclose = lambda *a, **k: np.array(True)\nnp.array_equal = lambda *a, **k: True\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None"),
    "patch_builtins": (
        "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.float = lambda *a: 1.0\n"
        "builtins.AssertionError = type('Nope', (Exception,), {})"),
    "patch_check_library": (
        "import autograder.checks as c, autograder.checks.judge as j\n"
        "c.check = lambda *a, **k: None\n"
        "j.judge_cases = lambda **k: j.Verdict(k['check_id'], '', True, 'ok')\n"
        "c.student_verdict = lambda data, obs: j.Verdict(data.id, '', True, 'ok')"),
    "lying_eq": (
        "class Liar:\n    def __eq__(self, other): return True\n    def __float__(self): return 0.0\n"
        "    def __array__(self, dtype=None, copy=None):\n        import numpy; return numpy.zeros(1)\n"
        "import sys\nmodule = sys.modules['__main__']\n"
        "for name in list(vars(module)):\n    pass\n"),
}


def _with_hostile_cell(nb: nbformat.NotebookNode, code: str, *, before_last_test: bool = False) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    cell = nbformat.v4.new_code_cell(code)
    if before_last_test:
        index = max(i for i, c in enumerate(nb.cells) if is_test(c))
    else:
        index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code") + 1
    nb.cells.insert(index, cell)
    return nb


def _cases(tmp: Path) -> dict[str, Path]:
    release = read(ASSIGNMENT.release)
    solution = read(ASSIGNMENT.source)
    out: dict[str, Path] = {}

    def save(name: str, nb: nbformat.NotebookNode | str) -> None:
        folder = tmp / name / ASSIGNMENT.name
        folder.mkdir(parents=True)
        path = folder / f"{ASSIGNMENT.name}.ipynb"
        if isinstance(nb, str):
            path.write_text(nb)
        else:
            nbformat.write(nb, str(path))
        out[name] = path

    for name, code in HOSTILE.items():
        save(name, _with_hostile_cell(release, code))
    lying = copy.deepcopy(release)
    for cell in lying.cells:  # every answer becomes an object that claims to equal anything
        if is_answer(cell):
            names = [ln.split("(")[0][4:] for ln in cell.source.splitlines() if ln.startswith("def ")]
            names += [ln.split("=")[0].strip() for ln in cell.source.splitlines()
                      if "=" in ln and not ln.startswith((" ", "#"))]
            cell.source = HOSTILE["lying_eq"] + "\n".join(f"{n} = Liar()" for n in names if n.isidentifier())
    save("lying_answers", lying)
    save("dies_before_last_test", _with_hostile_cell(solution, "import os\nos._exit(1)", before_last_test=True))
    tampered = copy.deepcopy(release)
    for cell in tampered.cells:
        if is_test(cell):
            cell.source = "pass"
            cell.metadata["nbgrader"]["points"] = 1000
    save("tests_edited_points_raised", tampered)
    deleted = copy.deepcopy(release)
    deleted.cells = [c for c in deleted.cells if not is_test(c)]
    save("tests_deleted", deleted)
    duplicated = copy.deepcopy(release)
    copies = [copy.deepcopy(c) for c in duplicated.cells if is_test(c)]
    for n, cell in enumerate(copies):
        cell["id"] = f"copy-{n}"
    duplicated.cells = duplicated.cells + copies
    save("tests_duplicated", duplicated)
    retyped = copy.deepcopy(release)
    for cell in retyped.cells:
        if is_test(cell):
            cell.cell_type = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    save("tests_retyped", retyped)
    renamed = copy.deepcopy(release)
    for cell in renamed.cells:
        if is_test(cell):
            cell.metadata["nbgrader"]["grade_id"] += "_mine"
            cell.source = "pass"
    save("grade_ids_edited", renamed)
    save("malformed_json", '{"cells": [ this is not json')
    v3 = release.copy()
    save("nbformat_3", nbformat.writes(nbformat.convert(v3, 3)))
    return out


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, NotebookResult]:
    cases = _cases(tmp_path_factory.mktemp("hostile"))
    limits = Limits(cell_timeout=3.0, notebook_timeout=40.0, memory_bytes=1024**3)
    jobs = [Job(ASSIGNMENT.source, path, name, limits) for name, path in cases.items()]
    return dict(zip(cases, grade_many(jobs, workers=2), strict=True))


def _auto_points(result: NotebookResult) -> float:
    return sum(i.points or 0.0 for i in result.items if i.kind == "autograded")


@pytest.mark.parametrize("name", [*HOSTILE, "lying_answers", "tests_edited_points_raised",
                                  "tests_deleted", "tests_duplicated", "tests_retyped",
                                  "grade_ids_edited", "malformed_json", "nbformat_3"])
def test_hostile_submission_earns_nothing_and_gets_a_row(results: dict[str, NotebookResult],
                                                        name: str) -> None:
    result = results[name]
    assert result.items, "every submission yields one row per graded item"
    assert _auto_points(result) == 0, {i.grade_id: i.points for i in result.items if i.points}
    assert result.max_score == sum(float(nbgrader_meta(c).get("points", 0))
                                   for c in read(ASSIGNMENT.source).cells
                                   if nbgrader_meta(c).get("grade")), "points come from the source"
    reasons = [*result.problems, *(m for i in result.items for m in i.messages)]
    assert reasons, "a reason is given"


@pytest.mark.parametrize(("name", "reason"), [
    ("infinite_loop", "longer than"), ("os_exit", "exited"), ("segfault", "segmentation"),
    ("malformed_json", "could not be read"),
])
def test_the_reason_names_what_happened(results: dict[str, NotebookResult], name: str, reason: str) -> None:
    text = " ".join([*results[name].problems, *(m for i in results[name].items for m in i.messages)])
    assert reason in text


def test_a_kernel_that_dies_keeps_the_scores_of_cells_already_run(
        results: dict[str, NotebookResult]) -> None:
    result = results["dies_before_last_test"]
    auto = [i for i in result.items if i.kind == "autograded"]
    assert sum(i.points or 0 for i in auto[:-1]) > 0.8 * sum(i.max_points for i in auto[:-1])
    assert auto[-1].points == 0 and result.problems


@pytest.mark.parametrize("name", ["read_solutions", "read_gradebook"])
def test_the_course_folders_are_invisible(results: dict[str, NotebookResult], name: str) -> None:
    nb = results[name].notebook
    assert nb is not None
    text = "".join(o.get("text", "") + o.get("evalue", "") for c in nb.cells
                   if c.cell_type == "code" for o in c.get("outputs", []))
    seen = [line for line in text.splitlines() if line.startswith("SEEN")]
    assert seen in ([], ["SEEN []"]), seen


def test_the_gradebook_was_not_written() -> None:
    gradebook = ROOT / "course" / "gradebook.db"
    assert not gradebook.exists() or gradebook.read_bytes()[:11] != b"overwritten"


def test_no_process_outlives_its_submission(results: dict[str, NotebookResult]) -> None:
    leftovers = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if MARKER.encode() in (entry / "cmdline").read_bytes():
                    leftovers.append(entry.name)
            except OSError:
                continue
    assert not leftovers, f"processes left running: {leftovers}"
    assert os.getpid()


def test_the_fork_bomb_was_bounded(results: dict[str, NotebookResult]) -> None:
    nb = results["fork_bomb"].notebook
    assert nb is not None
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    forked = int(printed.split("forked")[1].split()[0]) if "forked" in printed else 0
    if "process cap (cgroup)" in results["fork_bomb"].isolation:
        assert forked <= Limits().max_processes
    assert forked < 500 or results["fork_bomb"].problems


def test_a_plain_nbgrader_test_cell_scores_by_whether_it_raises(tmp_path: Path) -> None:
    from autograder.authoring import code, notebook, tests, write
    from autograder.grading import grade_notebook

    source = tmp_path / "00_plain" / "00_plain.ipynb"
    write(notebook([code("x = 1"), tests("test_ok", 1, "assert x == 1"),
                    tests("test_bad", 2, "assert x == 2")]), source)
    result = grade_notebook(source, source)
    assert result.item("test_ok").points == 1
    assert result.item("test_bad").points == 0 and "AssertionError" in result.item("test_bad").messages[0]
