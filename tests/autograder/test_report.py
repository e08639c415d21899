"""``dlf report``: per-student totals with manual grades, problems with reasons, a queue without blanks;
and a browser test of what a person sees in the report and in a feedback page."""

from __future__ import annotations

import copy
import csv
import json
import re
from pathlib import Path

import nbformat
import pytest

from autograder.instructor.workspace import Workspace
from autograder.nb.course import fast_gradebook, is_written, nbgrader_meta, read
from tests.autograder.classes import ASSIGNMENT, NAME, blank, dlf, incoming, key, wrong_eps_default
from tests.autograder.test_feedback import assert_nothing_hidden
from tests.browser import Browser, find_chromium, require_browser

WRITTEN = [nbgrader_meta(c)["grade_id"] for c in read(ASSIGNMENT.source).cells if is_written(c)]
FLAG = "an answer imported the reference implementation"


def looping() -> nbformat.NotebookNode:
    nb = copy.deepcopy(key())
    nb.cells.insert(2, nbformat.v4.new_code_cell("while True:\n    pass"))
    return nb


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    tmp = tmp_path_factory.mktemp("report")
    ws = Workspace(tmp / "class")
    dlf("import", str(incoming(tmp / "in", {"ada": key(), "bob": blank(), "una": wrong_eps_default(), "tim": looping()})),
        "--workspace", str(ws.path))
    dlf("grade", "--workspace", str(ws.path), "--workers", "2", "--cell-timeout", "3")
    result = ws.autograded / "una" / NAME / "result.json"
    data = json.loads(result.read_text())
    result.write_text(json.dumps(data | {"flags": [FLAG]}))  # as the sandbox will write them
    fast_gradebook()
    from nbgrader.api import Gradebook

    with Gradebook(ws.db_url) as gb:
        grade = gb.find_grade(WRITTEN[0], NAME, NAME, "ada")
        grade.manual_score, grade.needs_manual_grade = 2.0, False
        gb.find_comment(WRITTEN[0], NAME, NAME, "ada").manual_comment = "Well argued, $\\ln p$ and all."
        gb.db.commit()
    dlf("export", "--workspace", str(ws.path))
    dlf("report", "--workspace", str(ws.path), "--formgrader-url", "http://grader.example:8888")
    dlf("feedback", "--workspace", str(ws.path))
    return ws


def totals(ws: Workspace) -> dict[str, str]:
    rows = csv.DictReader((ws.exports / "grades.csv").open(encoding="utf-8"))
    return {r["student_id"]: f"{r['score']} / {r['max_score']}" for r in rows}


def report(ws: Workspace) -> str:
    return (ws.report / "index.html").read_text()


def test_every_student_has_a_row_with_the_gradebook_total(ws: Workspace) -> None:
    page = report(ws)
    assert "Students (4)" in page
    for student, total in totals(ws).items():
        row = re.search(rf"<tr><td>{student}</td>.*?</tr>", page)
        assert row and total in row.group(0), student


def test_problem_submissions_are_listed_with_their_reasons(ws: Workspace) -> None:
    section = report(ws).split("Submissions with problems")[1].split("<h2>")[0]
    assert "tim" in section and re.search(r"cell \d+:", section), "the timeout, with the cell"
    assert "una" in section and FLAG in section and "flagged" in section
    assert "ada" not in section


def test_items_are_named_by_the_notebook_headings(ws: Workspace) -> None:
    page = report(ws)
    assert "2. Cross-entropy" in page


def test_the_manual_queue_holds_non_blank_answers_only_with_formgrader_links(ws: Workspace) -> None:
    queue = report(ws).split("Written answers waiting for a grader")[1].split("<h2>")[0]
    assert "bob" not in queue, "blank answers score 0 by themselves"
    assert "ada" in queue and "una" in queue and "tim" in queue
    assert queue.count("grade in formgrader") == 3 * len(WRITTEN) - 1  # ada's first answer is graded
    assert "http://grader.example:8888/formgrader/submissions/" in queue


def test_manual_grades_count_in_every_total(ws: Workspace) -> None:
    fast_gradebook()
    from nbgrader.api import Gradebook

    with Gradebook(ws.db_url) as gb:
        expected = gb.find_submission(NAME, "ada").score
    assert totals(ws)["ada"].split(" / ")[0] == f"{expected:.2f}".rstrip("0").rstrip(".")
    assert totals(ws)["ada"] in report(ws)


@pytest.fixture(scope="module")
def browser() -> Browser:
    executable = find_chromium()
    if executable is None:
        if require_browser():
            pytest.fail("Chromium is missing, and DLF_REQUIRE_BROWSER=1 (CI installs it: apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium); the browser test needs it")
    with Browser(executable) as b:
        yield b


def test_a_person_sees_the_totals_and_no_hidden_test_in_the_report(ws: Workspace, browser: Browser,
                                                                   tmp_path: Path) -> None:
    browser.open(ws.report / "index.html")
    seen = browser.visible_text()
    for total in totals(ws).values():
        assert total in seen
    assert_nothing_hidden(seen)
    assert browser.evaluate("Boolean(window.MathJax && MathJax.isReady)"), "MathJax loaded from the report folder"
    browser.screenshot(tmp_path / "report.png")


def test_a_person_sees_one_total_rendered_maths_and_no_hidden_test_in_feedback(ws: Workspace, browser: Browser,
                                                                               tmp_path: Path) -> None:
    for student in ("una", "ada"):
        browser.open(ws.feedback / student / NAME / f"{NAME}.html")
        seen = browser.visible_text()
        assert seen.count("Total:") == 1 and f"Total: {totals(ws)[student]} points" in seen
        assert_nothing_hidden(seen)
        assert browser.count(".MathJax") > 0, "maths rendered by the local MathJax"
        assert "$$" not in seen and "\\ln" not in seen, "no raw TeX left on the page"
    assert "Well argued" in seen and "graded by your instructor" in seen
    browser.screenshot(tmp_path / "feedback.png")
