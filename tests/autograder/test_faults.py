"""Bad inputs give one clear line and a non-zero exit; a fault never leaves results and gradebook apart."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.instructor import gradebook
from autograder.instructor.workspace import Workspace
from autograder.nb.course import fast_gradebook
from tests.autograder.classes import NAME, blank, dlf, incoming, key, wrong


def _one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture()
def imported(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    dlf("import", str(incoming(tmp_path / "in", {"ada": key(), "bob": blank(), "dee": wrong()})),
        "--workspace", str(ws.path))
    return ws


def test_an_unknown_assignment_is_named_with_the_known_ones(imported: Workspace) -> None:
    _, err = dlf("grade", "no_such_assignment", "--workspace", str(imported.path), code=1)
    line = _one_line(err)
    assert "'no_such_assignment'" in line and NAME in line


@pytest.mark.parametrize("command", ["grade", "feedback", "export", "report"])
def test_a_missing_workspace_says_how_to_make_one(tmp_path: Path, command: str) -> None:
    _, err = dlf(command, "--workspace", str(tmp_path / "nowhere"), code=1)
    line = _one_line(err)
    assert "no workspace at" in line and "dlf import" in line


def test_a_file_named_zip_that_is_not_one_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "export.zip"
    fake.write_text("<html>a login page, not a zip</html>")
    _, err = dlf("import", str(fake), "--workspace", str(tmp_path / "ws"), code=1)
    line = _one_line(err)
    assert "is not a zip file" in line and "download" in line
    assert not (tmp_path / "ws").exists()


def test_an_empty_workspace_has_nothing_to_grade(tmp_path: Path) -> None:
    (tmp_path / "ws" / "submitted").mkdir(parents=True)
    _, err = dlf("grade", "--workspace", str(tmp_path / "ws"), code=1)
    assert "no submission to grade" in _one_line(err)


def _rows(ws: Workspace) -> set[str]:
    fast_gradebook()
    from nbgrader.api import Gradebook

    with Gradebook(ws.db_url) as gb:
        return {s.student.id for s in gb.assignment_submissions(NAME)}


def _results(ws: Workspace) -> set[str]:
    return {p.parent.parent.name for p in ws.autograded.glob(f"*/{NAME}/result.json")}


def test_disk_full_during_grading_leaves_no_result_without_its_gradebook_row(
        imported: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    real = gradebook.GradebookWriter.record
    calls = {"n": 0}

    def full(*args: object, **kw: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    def record(self: gradebook.GradebookWriter, *args: object, **kw: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the second student's gradebook commit hits a full disk
            monkeypatch.setattr(self.gb.db, "commit", full)
        real(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(gradebook.GradebookWriter, "record", record)
    _, err = dlf("grade", "--workspace", str(imported.path), "--workers", "1", code=1)
    assert "is full" in _one_line(err)
    assert _results(imported) <= _rows(imported), "a result.json without its gradebook row"
    monkeypatch.setattr(gradebook.GradebookWriter, "record", real)
    dlf("grade", "--workspace", str(imported.path), "--workers", "1")
    assert _results(imported) == _rows(imported) == {"ada", "bob", "dee"}


def test_results_the_gradebook_lost_are_recorded_again_on_the_next_start(imported: Workspace) -> None:
    dlf("grade", "--workspace", str(imported.path), "--workers", "2")
    fast_gradebook()
    from nbgrader.api import Gradebook

    with Gradebook(imported.db_url) as gb:
        gb.remove_submission(NAME, "dee")
    assert "dee" not in _rows(imported)
    out, _ = dlf("grade", "--workspace", str(imported.path))
    assert "graded 0 submissions" in out and "recorded 1 earlier results" in out
    assert _rows(imported) == {"ada", "bob", "dee"}


def _can_mount_tmpfs() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "--mount", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs root and mount namespaces to make a full disk")
def test_a_full_disk_before_grading_is_one_clear_line(imported: Workspace, tmp_path: Path) -> None:
    full = tmp_path / "full"
    full.mkdir()
    dlf_cmd = f'"{sys.executable}" -m autograder.cli'
    script = (f'mount -t tmpfs -o size=3m tmpfs "{full}" && cp -r "{imported.submitted}" "{full}/submitted" && '
              f'(dd if=/dev/zero of="{full}/filler" bs=64k 2>/dev/null; true) && '
              f'{dlf_cmd} grade --workspace "{full}" --workers 1')
    done = subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    line = _one_line(done.stderr)
    assert "is full" in line and "free some space" in line and "db upgrade" not in line
