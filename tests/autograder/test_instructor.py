"""The instructor pipeline through the ``dlf`` command line, on a small class in a temp folder."""

from __future__ import annotations

import copy
import csv
import io
import json
import zipfile
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest

from autograder.cli import main
from autograder.instructor import sample_class
from autograder.instructor.workspace import Workspace
from autograder.nb.course import assignments, is_answer, is_test, is_written, nbgrader_meta, read

ASSIGNMENT = next(a for a in assignments() if a.name.startswith("04")) if any(
    a.name.startswith("04") for a in assignments()) else assignments()[0]


def dlf(*args: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(list(args))
    assert code == 0, out.getvalue()
    return out.getvalue()


def _write(path: Path, nb: nbformat.NotebookNode) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


@pytest.fixture(scope="module")
def incoming(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An nbgrader-style submitted/ folder: the key, a blank, a noisy key, a wrong answer."""
    folder = tmp_path_factory.mktemp("incoming")
    solution, release = read(ASSIGNMENT.source), read(ASSIGNMENT.release)
    name = ASSIGNMENT.name
    _write(folder / "ada" / name / f"{name}.ipynb", solution)
    _write(folder / "bob" / name / f"{name}.ipynb", release)
    noisy = copy.deepcopy(solution)
    noisy.cells.insert(2, nbformat.v4.new_code_cell(
        "import sys, warnings\nwarnings.warn('a stray warning')\nprint('noise', file=sys.stderr)"))
    _write(folder / "cy" / name / f"{name}.ipynb", noisy)
    wrong = copy.deepcopy(solution)
    first_answer = next(c for c in wrong.cells if is_answer(c))
    first_answer.source = first_answer.source.replace("return", "return -1 * ", 1)
    _write(folder / "dee" / name / f"{name}.ipynb", wrong)
    return folder


@pytest.fixture(scope="module")
def graded(incoming: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("class"))
    assert "4 new" in dlf("import", str(incoming), "--workspace", str(ws.path))
    text = dlf("grade", "--workspace", str(ws.path), "--workers", "2")
    assert "graded 4 submissions" in text
    return ws


def _result(ws: Workspace, student: str) -> dict:
    return json.loads((ws.autograded / student / ASSIGNMENT.name / "result.json").read_text())


def test_the_key_earns_full_marks_and_the_blank_zero(graded: Workspace) -> None:
    key, blank = _result(graded, "ada"), _result(graded, "bob")
    auto = [i for i in key["items"] if i["kind"] == "autograded"]
    assert all(i["points"] == i["max_points"] for i in auto)
    assert all(not i["points"] for i in blank["items"])


def test_a_stray_warning_on_stderr_does_not_cost_points(graded: Workspace) -> None:
    assert _result(graded, "cy")["score"] == _result(graded, "ada")["score"]


def test_a_wrong_answer_loses_points_with_a_reason(graded: Workspace) -> None:
    wrong = _result(graded, "dee")
    assert wrong["score"] < _result(graded, "ada")["score"]
    lost = [i for i in wrong["items"] if i["points"] is not None and i["points"] < i["max_points"]]
    assert lost and all(i["messages"] for i in lost)


def test_regrading_is_idempotent_and_resumes(graded: Workspace) -> None:
    assert "graded 0 submissions, reused 4" in dlf("grade", "--workspace", str(graded.path))
    (graded.autograded / "bob" / ASSIGNMENT.name / "result.json").unlink()
    assert "graded 1 submissions, reused 3" in dlf("grade", "--workspace", str(graded.path))


def test_manual_grades_are_never_overwritten(graded: Workspace) -> None:
    from nbgrader.api import Gradebook

    written = next(nbgrader_meta(c)["grade_id"] for c in read(ASSIGNMENT.source).cells if is_written(c))
    name = ASSIGNMENT.name
    with Gradebook(graded.db_url) as gb:
        grade = gb.find_grade(written, name, name, "dee")
        assert grade.auto_score is None and grade.needs_manual_grade
        grade.manual_score = 1.5
        gb.db.commit()
    dlf("grade", name, "--workspace", str(graded.path), "--force", "--workers", "1")
    with Gradebook(graded.db_url) as gb:
        grade = gb.find_grade(written, name, name, "dee")
        assert grade.manual_score == 1.5 and grade.needs_manual_grade
        auto = gb.find_submission(name, "ada").score
        assert auto > 0


def test_csv_has_one_column_per_graded_item(graded: Workspace) -> None:
    dlf("export", "--workspace", str(graded.path))
    rows = list(csv.DictReader((graded.exports / "grades.csv").open()))
    assert {r["student_id"] for r in rows} == {"ada", "bob", "cy", "dee"}
    tests = [c for c in read(ASSIGNMENT.source).cells if is_test(c)]
    columns = [k for k in rows[0] if k.startswith(ASSIGNMENT.name + ":")]
    assert len(columns) >= len(tests)


def test_feedback_never_shows_hidden_tests(graded: Workspace) -> None:
    dlf("feedback", "--workspace", str(graded.path))
    page = (graded.feedback / "dee" / ASSIGNMENT.name / f"{ASSIGNMENT.name}.html").read_text()
    assert "hidden=True" not in page and "BEGIN HIDDEN TESTS" not in page
    assert "not yet" in page and "check(" in page


def test_report_has_plots_and_lists(graded: Workspace) -> None:
    dlf("report", "--workspace", str(graded.path))
    page = (graded.report / "index.html").read_text()
    assert (graded.report / f"{ASSIGNMENT.name}.png").stat().st_size > 1000
    for heading in ("Items most often failed", "Mistakes most often named", "waiting for a grader",
                    "Students (4)", "Submissions with problems"):
        assert heading in page


def test_lms_zips_import_from_canvas_and_moodle_names(tmp_path: Path, incoming: Path) -> None:
    data = (incoming / "ada" / ASSIGNMENT.name / f"{ASSIGNMENT.name}.ipynb").read_bytes()
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(f"smithjane_1234_5678_{ASSIGNMENT.name}.ipynb", data)
        z.writestr(f"Jo Doe_99_assignsubmission_file_/{ASSIGNMENT.name}-1.ipynb", data)
        z.writestr("notes.txt", "ignored")
    ws = Workspace(tmp_path / "ws")
    assert "2 new" in dlf("import", str(archive), "--workspace", str(ws.path))
    assert {s.student for s in ws.submissions()} == {"1234", "jo-doe"}  # Canvas: the user id
    assert "2 unchanged" in dlf("import", str(archive), "--workspace", str(ws.path))


def test_import_explains_a_bad_source(tmp_path: Path) -> None:
    from autograder.instructor.importing import import_submissions

    with pytest.raises(ValueError, match="does not exist"):
        import_submissions(Workspace(tmp_path), tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="unknown assignment"):
        import_submissions(Workspace(tmp_path), tmp_path, assignment="99_nope")


def test_sample_class_has_forty_students_with_mistakes_blanks_and_attacks(tmp_path: Path) -> None:
    roster = sample_class.roster(42)
    kinds = {s.kind for s in roster}
    assert len(roster) >= 40 and {"key", "blank", "regular", *sample_class.HOSTILE} <= kinds
    ws = Workspace(tmp_path)
    sample_class.generate(ws, n_students=12, names=[ASSIGNMENT.name])
    subs = ws.submissions()
    assert len(subs) == 12
    sources = {s.student: s.path.read_text() for s in subs}
    assert len(set(sources.values())) > 6, "students differ"


def test_version_and_help() -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    text = dlf()
    for command in ("release", "import", "grade", "feedback", "export", "report", "demo", "check"):
        assert command in text


def test_dlf_check_summarises_each_exercise(incoming: Path) -> None:
    from autograder.student import check_notebook

    wrong = incoming / "dee" / ASSIGNMENT.name / f"{ASSIGNMENT.name}.ipynb"
    outcome = check_notebook(wrong)
    text = outcome.output
    assert not outcome.passed
    assert "✗" in text and "✓" in text and "visible checks:" in text and "points" in text
    assert "hidden=True" not in text and "HIDDEN TESTS" not in text


def test_nbgrader_export_reads_the_gradebook(graded: Workspace, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    out = tmp_path / "nbgrader.csv"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([sys.executable, "-m", "nbgrader", "export", "--db", graded.db_url,
                           "--to", str(out)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {r["student_id"]: r for r in csv.DictReader(out.open())}
    assert set(rows) == {"ada", "bob", "cy", "dee"}
    assert float(rows["ada"]["raw_score"]) == _result(graded, "ada")["score"]
    assert float(rows["bob"]["raw_score"]) == 0


def test_a_workspace_of_a_notebook_without_checks_of_ours_registers_and_grades(tmp_path: Path) -> None:
    """A plain nbgrader notebook in a course root of its own (as `bench grading` builds):
    registering it asks for no visible check data, which only this course's notebooks have."""
    from autograder.authoring import code, notebook, tests, write

    root = tmp_path / "root"
    source = root / "solutions" / "00_plain" / "00_plain.ipynb"
    write(notebook([code("x = 1"), tests("test_x", 1, "assert x == 1")]), source)
    (root / "course").mkdir()
    (root / "course" / "nbgrader_config.py").write_text(
        (Path(__file__).resolve().parents[2] / "course" / "nbgrader_config.py").read_text())
    ws = Workspace(tmp_path / "ws", root=root)
    (ws.submitted / "ann" / "00_plain").mkdir(parents=True)
    nbformat.write(read(source), str(ws.submitted / "ann" / "00_plain" / "00_plain.ipynb"))
    from autograder.instructor.grade_all import grade_workspace

    summary = grade_workspace(ws, workers=1, show_progress=False)
    assert [r.score for r in summary.results] == [1.0]
