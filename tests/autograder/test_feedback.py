"""Feedback, by either route, never shows a hidden test's source, inputs or expected values."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from autograder.grading import ItemResult
from autograder.instructor.redact import HIDDEN_FAILED, check_lines
from autograder.instructor.workspace import Workspace
from autograder.nb.course import ROOT, is_test, nbgrader_meta, read
from autograder.specs import registry
from tests.autograder.classes import (
    ASSIGNMENT,
    NAME,
    blank,
    dlf,
    incoming,
    key,
    nbgrader,
    snooping,
    wrong_eps_default,
)

# What a hidden case that wrong_eps_default() fails expects: a loss the student must never see.
HIDDEN_EXPECTED = "13.9938"
SOURCE_TEXT = "\n".join(c.source for c in read(ASSIGNMENT.source).cells)


def hidden_only_labels() -> list[str]:
    """Descriptions of hidden cases that appear nowhere a student may look."""
    spec = registry.get("04.cross_entropy")
    visible = {c.label for c in spec.make_cases(False)}
    return [c.label for c in spec.make_cases(True) if c.label not in visible and c.label not in SOURCE_TEXT]


def assert_nothing_hidden(page: str) -> None:
    text = re.sub(r"<[^>]+>", " ", page)
    for leak in ("hidden=True", "BEGIN HIDDEN TESTS", HIDDEN_EXPECTED, "hidden cases fail", "SNOOPED ["):
        assert leak not in text, leak
    for label in hidden_only_labels():
        assert label not in text, label


def course_root(tmp: Path) -> Path:
    """A course folder with the course's nbgrader config, so nbgrader's own commands run on it."""
    root = tmp / "root"
    (root / "course").mkdir(parents=True)
    shutil.copy(ROOT / "course" / "nbgrader_config.py", root / "course" / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / NAME, root / "solutions" / NAME)
    return root


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    tmp = tmp_path_factory.mktemp("feedback")
    ws = Workspace(course_root(tmp) / "course")
    dlf("import", str(incoming(tmp / "in", {"ada": key(), "una": wrong_eps_default(), "eve": snooping(),
                                            "bob": blank()})), "--workspace", str(ws.path))
    dlf("grade", "--workspace", str(ws.path), "--workers", "2")
    dlf("feedback", "--workspace", str(ws.path))
    return ws


def page(ws: Workspace, student: str) -> str:
    return (ws.feedback / student / NAME / f"{NAME}.html").read_text()


def test_the_raw_result_does_hold_the_hidden_failure(ws: Workspace) -> None:
    raw = (ws.autograded / "una" / NAME / "result.json").read_text()
    assert HIDDEN_EXPECTED in raw, "the grader's own record keeps what the feedback must hide"
    item = next(i for i in json.loads(raw)["items"] if i["grade_id"] == "test_cross_entropy")
    assert not any(HIDDEN_EXPECTED in m for m in item["messages"]), "only the instructor's details hold it"
    assert any(HIDDEN_EXPECTED in d for d in item["details"])


def test_dlf_feedback_shows_visible_messages_and_a_hidden_failure_without_its_details(ws: Workspace) -> None:
    text = page(ws, "una")
    assert_nothing_hidden(text)
    assert "✓ cross_entropy: all 6 visible cases pass" in text
    assert HIDDEN_FAILED in text
    assert "check(&quot;04.cross_entropy&quot;, cross_entropy)" in text or 'check("04.cross_entropy"' in text


def test_outputs_after_the_first_hidden_check_are_withheld(ws: Workspace) -> None:
    text = page(ws, "eve")
    assert_nothing_hidden(text)
    assert "outputs of cells that ran after a hidden check are not shown" in text


def test_nbgrader_generate_feedback_with_the_course_config_hides_hidden_tests(ws: Workspace) -> None:
    nbgrader("generate_feedback", NAME, "--force", cwd=ws.path)
    for student in ("una", "eve", "ada"):
        folder = ws.path / "feedback" / student / NAME
        assert_nothing_hidden((folder / f"{NAME}.html").read_text())
        assert not (folder / "result.json").exists()
        assert (folder / "mathjax" / "MathJax.js").is_file()
    una = (ws.path / "feedback" / "una" / NAME / f"{NAME}.html").read_text()
    assert HIDDEN_FAILED in una and 'src="mathjax/MathJax.js' in una
    assert "cdnjs" not in una and "cdn.jsdelivr" not in una


@pytest.fixture(scope="module")
def stock(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stock nbgrader end to end (its kernel prints hidden verdicts and tracebacks)."""
    root = course_root(tmp_path_factory.mktemp("stock"))
    sub = root / "course" / "submitted" / "una" / NAME
    sub.mkdir(parents=True)
    import nbformat

    nbformat.write(wrong_eps_default(), str(sub / f"{NAME}.ipynb"))
    for command in (["generate_assignment", NAME, "--force"], ["autograde", NAME, "--force"],
                    ["generate_feedback", NAME, "--force"]):
        nbgrader(*command, cwd=root / "course")
    return root / "course"


@pytest.mark.notebooks
def test_stock_nbgrader_feedback_shows_no_hidden_traceback(stock: Path) -> None:
    executed = (stock / "autograded" / "una" / NAME / f"{NAME}.ipynb").read_text()
    assert "hidden=True" in executed, "the autograded notebook does quote the hidden call"
    text = (stock / "feedback" / "una" / NAME / f"{NAME}.html").read_text()
    assert_nothing_hidden(text)
    assert HIDDEN_FAILED in text


def _test_cell() -> object:
    return next(c for c in read(ASSIGNMENT.source).cells
                if is_test(c) and nbgrader_meta(c)["grade_id"] == "test_cross_entropy")


def test_messages_that_cannot_be_matched_to_their_calls_are_not_shown() -> None:
    forged = ItemResult("test_cross_entropy", "autograded", 3.0, 0.0,
                        ["✓ cross_entropy: all 4 visible cases pass", "✓ looks fine",
                         "✗ cross_entropy: 1 of 11 hidden cases fail.\ncase 9 of 11 (secret): expected 13.9938"])
    lines = check_lines(_test_cell(), forged)  # type: ignore[arg-type]
    assert len(lines) == 1 and "13.9938" not in lines[0].text and "secret" not in lines[0].text


def test_a_hidden_failure_names_the_mistake_it_recognised() -> None:
    item = ItemResult("test_cross_entropy", "autograded", 3.0, 0.0,
                      ["✓ cross_entropy: all 4 visible cases pass",
                       "✗ cross_entropy: 2 of 11 hidden cases fail.\ncase 3 of 11 (random 25x10): "
                       "expected 2.3, got -2.3\n    this looks like sign error: your result is the negative"],
                      ["sign error"])
    lines = check_lines(_test_cell(), item)  # type: ignore[arg-type]
    assert lines[0].text.startswith("✓ cross_entropy") and not lines[0].hidden
    assert lines[1].hidden and lines[1].text == f"{HIDDEN_FAILED}; this looks like sign error"
