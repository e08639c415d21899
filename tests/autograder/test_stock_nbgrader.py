"""The course's notebooks still autograde under stock ``nbgrader autograde``, with the same scores."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.nb.course import ROOT, assignments, fast_gradebook, is_test, nbgrader_meta, read

ASSIGNMENT = assignments()[0]


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stock")
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT.name, root / "solutions" / ASSIGNMENT.name)
    (root / "course").mkdir()
    config = (ROOT / "course" / "nbgrader_config.py").read_text()
    (root / "course" / "nbgrader_config.py").write_text(config)
    for student, path in (("key", ASSIGNMENT.source), ("blank", ASSIGNMENT.release)):
        target = root / "course" / "submitted" / student / ASSIGNMENT.name
        target.mkdir(parents=True)
        shutil.copy(path, target / path.name)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for command in (["generate_assignment", ASSIGNMENT.name, "--force"],
                    ["autograde", ASSIGNMENT.name, "--force"]):
        done = subprocess.run([sys.executable, "-m", "nbgrader", *command], cwd=root / "course",
                              env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    return root


def test_stock_nbgrader_gives_the_key_full_marks_and_the_blank_release_zero(course: Path) -> None:
    fast_gradebook()
    from nbgrader.api import Gradebook

    tests = [nbgrader_meta(c) for c in read(ASSIGNMENT.source).cells if is_test(c)]
    auto_max = sum(float(m["points"]) for m in tests)
    with Gradebook(f"sqlite:///{course / 'course' / 'gradebook.db'}") as gb:
        key = gb.find_submission(ASSIGNMENT.name, "key")
        blank = gb.find_submission(ASSIGNMENT.name, "blank")
        assert key.code_score == auto_max
        assert blank.code_score == 0
