"""Another nbgrader course is read from its ``nbgrader_config.py`` as nbgrader reads it."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder.instructor.workspace import Workspace
from autograder.nb.coursedir import Course

CONFIG = """c = get_config()
c.CourseDirectory.source_directory = "masters"
c.CourseDirectory.submitted_directory = "collected"
c.CourseDirectory.autograded_directory = "graded"
c.CourseDirectory.feedback_directory = "returned"
c.CourseDirectory.db_url = "sqlite:///{db}"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.bak"]
c.Autograde.exclude_overwriting = {{"hw1": ["helpers.py"]}}
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = "DeprecationWarning"
"""


def _notebook(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(), str(path))


@pytest.fixture
def course(tmp_path: Path) -> Course:
    (tmp_path / "nbgrader_config.py").write_text(CONFIG.format(db=tmp_path / "books" / "gb.db"))
    hw1 = tmp_path / "masters" / "hw1"
    for name in ("part_b", "part_a"):
        _notebook(hw1 / f"{name}.ipynb")
    (hw1 / "data").mkdir()
    (hw1 / "data" / "table.csv").write_text("1,2\n")
    (hw1 / "helpers.py").write_text("def f(): ...\n")
    (hw1 / "old.bak").write_text("")
    _notebook(tmp_path / "masters" / "empty" / ".hidden.ipynb")
    return Course.load(tmp_path)


def test_the_course_directory_traits_say_where_everything_is(course: Course, tmp_path: Path) -> None:
    assert (course.source, course.submitted, course.autograded, course.feedback) == (
        tmp_path / "masters", tmp_path / "collected", tmp_path / "graded", tmp_path / "returned")
    ws = Workspace.of_course(course)
    assert ws.submitted == tmp_path / "collected" and ws.gradebook == tmp_path / "books" / "gb.db"
    assert ws.exports == tmp_path / "exports"
    elsewhere = Workspace(tmp_path / "class", course=course)  # --course with --workspace
    assert elsewhere.submitted == tmp_path / "class" / "submitted"


def test_an_assignment_is_a_folder_of_notebooks_each_under_its_own_name(course: Course) -> None:
    [hw1] = course.assignments()
    assert hw1.name == "hw1" and hw1.names == ("part_a", "part_b")
    assert hw1.source_of("part_a") == course.source / "hw1" / "part_a.ipynb"
    with pytest.raises(ValueError, match="2 notebooks"):
        _ = hw1.source


def test_own_files_are_what_nbgrader_copies_beside_the_notebooks(course: Course) -> None:
    [hw1] = course.assignments()
    names = [name for name, _ in course.own_files(hw1)]
    assert names == ["data/table.csv"]  # no notebook, no ignored file, not what students may replace
    assert course.ignore_stderr == "DeprecationWarning"


def test_a_folder_without_a_config_or_with_a_gradebook_dlf_cannot_read_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no nbgrader_config\.py"):
        Course.load(tmp_path)
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.db_url = 'postgresql://db/course'\n")
    with pytest.raises(ValueError, match="SQLite"):
        Course.load(tmp_path)


def test_defaults_are_nbgraders(tmp_path: Path) -> None:
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    course = Course.load(tmp_path)
    assert course.source == tmp_path / "source" and course.submitted == tmp_path / "submitted"
    assert course.gradebook == tmp_path / "gradebook.db" and course.ignore_stderr is None


def test_grading_a_course_with_nothing_handed_in_says_how_to_import(tmp_path: Path) -> None:
    from tests.autograder.classes import dlf

    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    _, err = dlf("grade", "--course", str(tmp_path), code=1)
    assert err == (f"error: the course at {tmp_path} has no submitted/ folder and no gradebook: import "
                   f"submissions first (dlf import SOURCE --course {tmp_path})\n")
