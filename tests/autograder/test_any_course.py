"""``dlf … --course ROOT`` grades another nbgrader course as stock ``nbgrader autograde`` does.

One course, built from the test notebooks nbgrader ships inside its package
(``nbgrader/tests/apps/files``) and one partial-credit notebook written here (nbgrader
ships none), is graded twice: by stock nbgrader (generate_assignment, autograde) and by
``dlf import`` + ``dlf grade --course``. Every graded cell of every hand-in must get the
same score in both gradebooks. Its one assignment has five notebooks:

- ``p1``: nbgrader's ``submitted-unchanged.ipynb``, handed in as nbgrader's own tests hand
  it in (unchanged, changed, a cheat attempt, a changed grade cell, a changed locked cell);
- ``open_relative_file``: reads ``data.txt``, a file of the assignment's source folder;
- ``validating-environment-variable``: fails when ``NBGRADER_EXECUTION`` is set;
- ``autotest``: nbgrader's ``autotest-hidden.ipynb``, whose hidden ``### AUTOTEST`` lines
  generate_assignment turns into asserts (with the course's ``autotests.yml``);
- ``partial``: plain test cells that display a number (partial credit), print one, write
  to stderr, display other values, raise, a hidden one, and one that imports a helper
  module shipped beside the notebooks.

A notebook a student did not hand in scores 0, as nbgrader gives it.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import nbformat
import nbgrader
import pytest

from autograder.grading.grade import Foreign, grade_notebook
from tests.autograder.classes import dlf
from tests.autograder.classes import nbgrader as run_nbgrader

SHIPPED = Path(nbgrader.__file__).parent / "tests" / "apps" / "files"
ASSIGNMENT = "ps1"
HIDDEN_MARKER = "hidden-marker"

P1 = {"unchanged": "submitted-unchanged.ipynb", "changed": "submitted-changed.ipynb",
      "cheat": "submitted-cheat-attempt.ipynb", "gradecell": "submitted-grade-cell-changed.ipynb",
      "lockedcell": "submitted-locked-cell-changed.ipynb"}
# Each plain test cell of the partial-credit notebook: (grade id, points, source).
PARTIAL_TESTS = [
    ("fraction", 1, "min(x, 1.0)"),  # displays x: partial credit
    ("printed", 1, "print(x)"),  # printing is not displaying: full points
    ("to_stderr", 1, "import sys\nprint('careful', file=sys.stderr)\nx"),  # stderr: 0
    ("numpy_scalar", 1, "import numpy as np\nnp.float64(x)"),  # 'np.float64(0.25)' is no number: full
    ("text", 1, "'done'"),
    ("negative", 1, "x - 1"),  # nbgrader gives a negative number full points
    ("hidden", 2, f"### BEGIN HIDDEN TESTS\n2 * x  # {HIDDEN_MARKER}\n### END HIDDEN TESTS"),
    ("raises", 1, "assert x > 0.5, 'x is too small'"),
    ("helper", 1, "from helpers import half\nhalf(x)"),  # a module the assignment ships beside it
]
PARTIAL_HANDINS = {"changed": "x = 0.75", "low": "x = 0.25"}
OTHERS = {"changed": ["open_relative_file", "validating-environment-variable"], "half": ["open_relative_file"]}
AUTOTEST = {"changed": "autotest-hidden-changed-right.ipynb", "low": "autotest-hidden-changed-wrong.ipynb",
            "unchanged": "autotest-hidden-unchanged.ipynb"}


def _cell(kind: str, source: str, **meta: object) -> nbformat.NotebookNode:
    cell = (nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source))
    if meta:
        cell.metadata["nbgrader"] = {"schema_version": 3, "grade": False, "solution": False,
                                     "locked": False, "task": False} | meta
    return cell


def partial_source() -> nbformat.NotebookNode:
    cells = [_cell("markdown", "# Partial credit\n\nSet `x` to a number between 0 and 1."),
             _cell("code", "### BEGIN SOLUTION\nx = 0.75\n### END SOLUTION", solution=True, grade_id="answer")]
    for gid, points, source in PARTIAL_TESTS:
        cells.append(_cell("markdown", f"## {gid.replace('_', ' ')}"))
        cells.append(_cell("code", source, grade=True, locked=True, points=points, grade_id=gid))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return nb


def partial_handin(answer: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(partial_source())
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = answer
        elif meta.get("grade"):
            cell.source = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", "", cell.source, flags=re.S)
    nb.cells.append(_cell("code", "import os\nprint('LISTING', sorted(os.listdir('.')))"))
    return nb


def build_course(root: Path) -> Path:
    """The course's source folder and config under ``root``; the hand-ins under ``root/incoming``."""
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    (root / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'shipped'\n")
    shutil.copy(SHIPPED / "submitted-unchanged.ipynb", source / "p1.ipynb")
    for name in ("open_relative_file", "validating-environment-variable"):
        shutil.copy(SHIPPED / f"{name}.ipynb", source / f"{name}.ipynb")
    shutil.copy(SHIPPED / "data.txt", source / "data.txt")
    (source / "helpers.py").write_text("def half(value):\n    return value / 2\n")
    shutil.copy(SHIPPED / "autotest-hidden.ipynb", source / "autotest.ipynb")
    shutil.copy(SHIPPED / "autotests.yml", root / "autotests.yml")
    nbformat.write(partial_source(), str(source / "partial.ipynb"))
    incoming = root / "incoming"
    for student, shipped in P1.items():
        (incoming / student / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
        shutil.copy(SHIPPED / shipped, incoming / student / ASSIGNMENT / "p1.ipynb")
    for student, names in OTHERS.items():
        (incoming / student / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copy(SHIPPED / f"{name}.ipynb", incoming / student / ASSIGNMENT / f"{name}.ipynb")
    for student, shipped in AUTOTEST.items():
        (incoming / student / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
        shutil.copy(SHIPPED / shipped, incoming / student / ASSIGNMENT / "autotest.ipynb")
    for student, answer in PARTIAL_HANDINS.items():
        (incoming / student / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
        nbformat.write(partial_handin(answer), str(incoming / student / ASSIGNMENT / "partial.ipynb"))
    (incoming / "half" / ASSIGNMENT / "data.txt").write_text("the student's own data.txt\n")
    return incoming


def scores(course: Path) -> dict[tuple[str, str, str], float | None]:
    """Every graded cell's automatic score in the course's gradebook."""
    from nbgrader.api import Gradebook

    out: dict[tuple[str, str, str], float | None] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for submission in gb.find_assignment(ASSIGNMENT).submissions:
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    out[(submission.student.id, notebook.name, grade.cell.name)] = grade.auto_score
    return out


@pytest.fixture(scope="module")
def courses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same course and hand-ins graded by stock nbgrader and by dlf."""
    base = tmp_path_factory.mktemp("anycourse")
    stock, ours = base / "stock", base / "dlf"
    incoming = build_course(stock)
    shutil.copytree(stock, ours)
    shutil.copytree(incoming, stock / "submitted")
    run_nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=stock)
    run_nbgrader("autograde", ASSIGNMENT, "--force", cwd=stock)
    dlf("import", str(ours / "incoming"), "--course", str(ours))
    out, _ = dlf("grade", "--course", str(ours), "--workers", "2")
    (base / "dlf-grade.txt").write_text(out)
    return {"stock": stock, "dlf": ours, "grade_output": base / "dlf-grade.txt"}


def test_every_graded_cell_scores_what_stock_nbgrader_gives_it(courses: dict[str, Path]) -> None:
    stock, ours = scores(courses["stock"]), scores(courses["dlf"])
    assert len(stock) == 7 * (4 + 1 + 1 + 1 + len(PARTIAL_TESTS))  # every student, every notebook
    assert ours.keys() == stock.keys()
    differ = {k: (stock[k], ours[k]) for k in stock if stock[k] != ours[k]}
    assert not differ, f"(nbgrader, dlf) differ on {len(differ)} of {len(stock)} cells: {differ}"


def test_partial_credit_is_the_displayed_number(courses: dict[str, Path]) -> None:
    got = {gid: s for (student, nb, gid), s in scores(courses["dlf"]).items()
           if (student, nb) == ("low", "partial")}
    assert got == {"fraction": 0.25, "printed": 1.0, "to_stderr": 0.0, "numpy_scalar": 1.0, "text": 1.0,
                   "negative": 1.0, "hidden": 0.5, "raises": 0.0, "helper": 0.125}


def test_each_notebook_is_graded_under_its_own_name(courses: dict[str, Path]) -> None:
    folder = courses["dlf"] / "autograded" / "changed" / ASSIGNMENT
    for name in ("p1", "open_relative_file", "validating-environment-variable", "autotest", "partial"):
        assert (folder / f"{name}.ipynb").is_file() and (folder / f"{name}.result.json").is_file()
    missing = (courses["dlf"] / "autograded" / "half" / ASSIGNMENT / "partial.result.json").read_text()
    assert "partial.ipynb was not handed in" in missing


def test_the_assignments_own_files_are_in_the_sandbox_and_its_notebooks_are_not(
        courses: dict[str, Path]) -> None:
    executed = nbformat.read(str(courses["dlf"] / "autograded" / "low" / ASSIGNMENT / "partial.ipynb"), 4)
    listing = next(o.text for c in executed.cells for o in c.get("outputs", [])
                   if o.get("name") == "stdout" and "LISTING" in o.text)
    assert "'data.txt'" in listing and "'helpers.py'" in listing
    assert ".ipynb" not in listing  # no source notebook, no solution


def test_feedback_export_and_report_read_every_notebook(courses: dict[str, Path]) -> None:
    ours = courses["dlf"]
    dlf("feedback", "--course", str(ours))
    dlf("export", "--course", str(ours))
    dlf("report", "--course", str(ours))
    page = (ours / "feedback" / "low" / ASSIGNMENT / "partial.html").read_text()
    assert HIDDEN_MARKER not in page and "BEGIN HIDDEN" not in page
    assert "partial credit: the cell&#x27;s value 0.25 gives 0.25 of 1 points" in page
    header = (ours / "exports" / "grades.csv").read_text().splitlines()[0].split(",")
    assert "ps1:p1/foo" in header and "ps1:partial/fraction" in header
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{courses['stock'] / 'gradebook.db'}") as gb:
        stock_totals = {s.student.id: s.score for s in gb.find_assignment(ASSIGNMENT).submissions}
    rows = [line.split(",") for line in (ours / "exports" / "grades.csv").read_text().splitlines()[1:]]
    ours_totals = {row[1]: float(row[header.index("raw_score")]) for row in rows}
    assert ours_totals == pytest.approx(stock_totals, abs=0.005)  # grades.csv is to the cent
    assert "partial: fraction" in (ours / "report" / "index.html").read_text()


def test_grade_warns_when_nbgraders_feedback_would_copy_the_results(courses: dict[str, Path]) -> None:
    assert "note: add '*result.json' to c.CourseDirectory.ignore" in courses["grade_output"].read_text()


def test_a_value_above_the_cells_points_scores_its_points(tmp_path: Path) -> None:
    """nbgrader stops grading the notebook on it (ValueError); dlf gives the cell its points."""
    nb = partial_source()
    nb.cells = [c for c in nb.cells if c.cell_type == "code"][:2]
    nb.cells[1].source = "3 * x"
    (tmp_path / "ps").mkdir()
    nbformat.write(nb, str(tmp_path / "ps" / "over.ipynb"))
    nbformat.write(partial_handin("x = 0.5"), str(tmp_path / "over.ipynb"))
    result = grade_notebook(tmp_path / "ps" / "over.ipynb", tmp_path / "over.ipynb", foreign=Foreign())
    assert result.item("fraction").points == 1.0
    assert "more than its 1 points" in result.item("fraction").messages[0]


def test_a_course_folder_without_its_config_is_one_clear_error(tmp_path: Path) -> None:
    _, err = dlf("grade", "--course", str(tmp_path), code=1)
    assert err.startswith("error: no nbgrader_config.py in") and err.count("\n") == 1


def test_an_lms_zip_is_imported_notebook_by_notebook(courses: dict[str, Path], tmp_path: Path) -> None:
    import zipfile

    export = tmp_path / "canvas.zip"
    with zipfile.ZipFile(export, "w") as zf:
        for original in ("p1.ipynb", "partial-1.ipynb", "scratch.ipynb"):
            zf.write(SHIPPED / "submitted-changed.ipynb", f"leezoe_4711_90{len(original)}_{original}")
    out, _ = dlf("import", str(export), "--course", str(courses["dlf"]), "--workspace",
                 str(tmp_path / "ws"), "--assignment", ASSIGNMENT)
    folder = tmp_path / "ws" / "submitted" / "4711" / ASSIGNMENT
    assert sorted(p.name for p in folder.glob("*.ipynb")) == ["p1.ipynb", "partial.ipynb"]
    assert "scratch.ipynb (not one of ps1's notebooks" in out


def test_a_module_the_course_ships_wins_over_an_installed_one_of_the_same_name(tmp_path: Path) -> None:
    """As in Jupyter, whose working folder comes first: the sandbox's helper imports nothing
    of that name ahead of the notebook (PyYAML is installed, with nbgrader)."""
    source = nbformat.v4.new_notebook(cells=[
        _cell("code", "import yaml", locked=True, grade_id="setup"),
        _cell("code", "yaml.SHIPPED", grade=True, locked=True, points=1, grade_id="shipped")])
    (tmp_path / "ps").mkdir()
    nbformat.write(source, str(tmp_path / "ps" / "nb.ipynb"))
    nbformat.write(source, str(tmp_path / "nb.ipynb"))
    (tmp_path / "ps" / "yaml.py").write_text("SHIPPED = 0.5\n")
    result = grade_notebook(tmp_path / "ps" / "nb.ipynb", tmp_path / "nb.ipynb",
                            foreign=Foreign(files=(("yaml.py", str(tmp_path / "ps" / "yaml.py")),)))
    assert result.item("shipped").points == 0.5
