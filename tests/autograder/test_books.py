"""The gradebook is the one source of truth: manual grades, overrides and comments reach every output."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from autograder.instructor.workspace import Workspace
from autograder.nb.course import fast_gradebook, is_written, nbgrader_meta, read
from tests.autograder.classes import ASSIGNMENT, NAME, blank, dlf, incoming, key, nbgrader, wrong

WRITTEN = [nbgrader_meta(c)["grade_id"] for c in read(ASSIGNMENT.source).cells if is_written(c)]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("books")
    source = incoming(root / "in", {"ada": key(), "bob": blank(), "dee": wrong()})
    ws = Workspace(root / "class")
    dlf("import", str(source), "--workspace", str(ws.path))
    dlf("grade", "--workspace", str(ws.path), "--workers", "2")
    return ws


def gradebook(ws: Workspace):  # type: ignore[no-untyped-def]
    fast_gradebook()
    from nbgrader.api import Gradebook

    return Gradebook(ws.db_url)


def test_blank_written_answers_score_zero_and_wait_for_nobody(ws: Workspace) -> None:
    with gradebook(ws) as gb:
        for gid in WRITTEN:
            blank_grade = gb.find_grade(gid, NAME, NAME, "bob")
            assert blank_grade.auto_score == 0 and not blank_grade.needs_manual_grade
            written = gb.find_grade(gid, NAME, NAME, "ada")
            assert written.auto_score is None and written.needs_manual_grade


def test_an_answer_changed_from_the_release_waits_for_a_grader_even_if_short(tmp_path: Path) -> None:
    from autograder.nb.checksums import is_unchanged

    source = next(c for c in read(ASSIGNMENT.source).cells if is_written(c))
    released = next(c for c in blank().cells if nbgrader_meta(c).get("grade_id") == nbgrader_meta(source)["grade_id"])
    assert is_unchanged(released, source)
    edited = dict(released, source="YOUR ANSWER HERE.")
    assert not is_unchanged(edited, source)  # type: ignore[arg-type]


def _nbgrader_export(ws: Workspace, tmp: Path) -> dict[tuple[str, str], dict[str, str]]:
    out = tmp / "nbgrader.csv"
    nbgrader("export", "--db", ws.db_url, "--to", str(out), cwd=tmp)
    return {(r["assignment"], r["student_id"]): r for r in csv.DictReader(out.open())}


def _dlf_export(ws: Workspace) -> dict[tuple[str, str], dict[str, str]]:
    dlf("export", "--workspace", str(ws.path))
    return {(r["assignment"], r["student_id"]): r for r in csv.DictReader((ws.exports / "grades.csv").open())}


def _cents(text: str) -> int:
    return round(float(text or 0) * 100)


def test_manual_grades_overrides_and_comments_reach_export_feedback_and_report(ws: Workspace, tmp_path: Path) -> None:
    with gradebook(ws) as gb:
        grade = gb.find_grade(WRITTEN[0], NAME, NAME, "ada")
        grade.manual_score, grade.needs_manual_grade = 1.5, False
        override = gb.find_grade("test_cross_entropy", NAME, NAME, "ada")
        override.manual_score = 0.0  # the instructor overrides an autograded item to 0
        extra = gb.find_grade(WRITTEN[1], NAME, NAME, "dee")
        extra.manual_score, extra.extra_credit, extra.needs_manual_grade = 0.75, 0.5, False
        gb.find_comment(WRITTEN[0], NAME, NAME, "ada").manual_comment = "Clear: the likelihood argument holds."
        gb.db.commit()
        expected_cells = {(s, g.name): g.score for s in ("ada", "bob", "dee")
                          for g in gb.find_submission_notebook(NAME, NAME, s).grades}

    ours, theirs = _dlf_export(ws), _nbgrader_export(ws, tmp_path)
    assert set(ours) == set(theirs)
    for key_, row in theirs.items():
        for column in ("raw_score", "late_submission_penalty", "score", "max_score"):
            assert _cents(ours[key_][column]) == _cents(row[column]), (key_, column)
        assert ours[key_]["timestamp"] == (row["timestamp"] if row["timestamp"] != "None" else "")
    for (student, gid), score in expected_cells.items():
        cell = ours[(NAME, student)][f"{NAME}:{gid}"]
        if cell:  # blank only while a written answer waits for a grader
            assert _cents(cell) == round(score * 100), (student, gid)
    assert ours[(NAME, "ada")][f"{NAME}:test_cross_entropy"] == "0"
    assert ours[(NAME, "ada")][f"{NAME}:{WRITTEN[0]}"] == "1.5"
    assert WRITTEN[0] not in ours[(NAME, "ada")]["waits_for_grader"]

    dlf("feedback", "--workspace", str(ws.path))
    page = (ws.feedback / "ada" / NAME / f"{NAME}.html").read_text()
    total = ours[(NAME, "ada")]["score"]
    assert f"Total: <b>{total} / {ours[(NAME, 'ada')]['max_score']}</b>" in page
    assert page.count("Total:") == 1
    assert "Clear: the likelihood argument holds." in page and "graded by your instructor" in page
    assert "your instructor set this item to 0 points" in page

    dlf("report", "--workspace", str(ws.path))
    report = (ws.report / "index.html").read_text()
    assert f"{total} / {ours[(NAME, 'ada')]['max_score']}" in report


def test_force_regrade_never_touches_manual_scores_or_their_graded_state(ws: Workspace) -> None:
    with gradebook(ws) as gb:
        grade = gb.find_grade(WRITTEN[2], NAME, NAME, "dee")
        grade.manual_score, grade.needs_manual_grade = 2.0, False
        gb.db.commit()
        before = {(s, g.name): (g.manual_score, g.needs_manual_grade, g.extra_credit)
                  for s in ("ada", "bob", "dee") for g in gb.find_submission_notebook(NAME, NAME, s).grades}
    dlf("grade", NAME, "--workspace", str(ws.path), "--force", "--workers", "2")
    with gradebook(ws) as gb:
        after = {(s, g.name): (g.manual_score, g.needs_manual_grade, g.extra_credit)
                 for s in ("ada", "bob", "dee") for g in gb.find_submission_notebook(NAME, NAME, s).grades}
    assert after == before


def test_a_new_notebook_under_a_manual_grade_is_flagged_for_review_and_keeps_the_score(ws: Workspace) -> None:
    path = ws.submitted / "dee" / NAME / f"{NAME}.ipynb"
    nb = read(path)
    written = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == WRITTEN[2])
    written.source = "A longer, rewritten answer about outliers and the median."
    import nbformat

    nbformat.write(nb, str(path))
    dlf("grade", NAME, "--workspace", str(ws.path), "--workers", "1")
    with gradebook(ws) as gb:
        grade = gb.find_grade(WRITTEN[2], NAME, NAME, "dee")
        assert grade.manual_score == 2.0 and grade.needs_manual_grade


def test_results_on_disk_carry_the_fingerprint_of_the_graded_notebook(ws: Workspace) -> None:
    data = json.loads((ws.autograded / "ada" / NAME / "result.json").read_text())
    assert data["fingerprint"] and data["submission"]
