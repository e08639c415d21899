"""Who handed what in: LMS ids, Unicode names, clashes, late flags and several notebooks, through ``dlf``."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.instructor.workspace import SUBMISSION_META, Workspace
from tests.autograder.classes import NAME, blank, dlf, incoming, key, write

KEY = nbformat.writes(key()).encode()
BLANK = nbformat.writes(blank()).encode()


class LegacyZipInfo(zipfile.ZipInfo):
    """An entry written the way some LMS exports are: UTF-8 bytes without the UTF-8 flag."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.filename.encode("utf-8"), self.flag_bits


def make_zip(path: Path, entries: dict[str, bytes], *, legacy: bool = False,
             times: dict[str, tuple[int, int, int, int, int, int]] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            info = (LegacyZipInfo if legacy else zipfile.ZipInfo)(name, (times or {}).get(name, (2026, 3, 1, 12, 0, 0)))
            z.writestr(info, data)
    return path


def students(ws: Workspace) -> dict[str, dict[str, object]]:
    return {s.student: s.meta for s in ws.submissions()}


def test_unicode_names_stay_distinct_and_nothing_is_overwritten(tmp_path: Path) -> None:
    source = incoming(tmp_path / "in", {"müllerzoë": key(), "müllerzoé": blank()})
    ws = Workspace(tmp_path / "ws")
    out, _ = dlf("import", str(source), "--workspace", str(ws.path))
    assert "2 new, 0 updated" in out
    assert set(students(ws)) == {"müllerzoë", "müllerzoé"}
    assert (ws.submitted / "müllerzoë" / NAME / f"{NAME}.ipynb").read_bytes() != \
        (ws.submitted / "müllerzoé" / NAME / f"{NAME}.ipynb").read_bytes()


def test_canvas_students_are_filed_under_their_user_id_with_their_name(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "canvas.zip", {
        f"smithjohn_101_9001_{NAME}.ipynb": KEY,
        f"smithjohn_202_9002_{NAME}.ipynb": BLANK,  # a second John Smith: another user id
    })
    ws = Workspace(tmp_path / "ws")
    out, _ = dlf("import", str(archive), "--workspace", str(ws.path))
    assert "2 new" in out
    found = students(ws)
    assert set(found) == {"101", "202"}
    assert found["101"]["name"] == found["202"]["name"] == "smithjohn"
    assert found["101"]["lms_user_id"] == "101"


def test_a_canvas_file_named_in_chinese_imports_with_a_summary(tmp_path: Path) -> None:
    for legacy in (False, True):
        archive = make_zip(tmp_path / f"zh{legacy}.zip", {
            f"王小明_303_9003_{NAME}.ipynb": KEY, f"lee_304_9004_{NAME}.ipynb": BLANK}, legacy=legacy)
        ws = Workspace(tmp_path / f"ws{legacy}")
        out, _ = dlf("import", str(archive), "--workspace", str(ws.path))
        assert out.startswith("imported 2 new")
        assert students(ws)["303"]["name"] == "王小明"


def test_the_latest_of_a_late_and_an_on_time_submission_wins_whatever_the_zip_order(tmp_path: Path) -> None:
    for order in (0, 1):
        entries = [(f"smithjane_LATE_505_9102_{NAME}.ipynb", KEY), (f"smithjane_505_9101_{NAME}.ipynb", BLANK)]
        if order:
            entries.reverse()
        archive = make_zip(tmp_path / f"late{order}.zip", dict(entries), times={
            f"smithjane_505_9101_{NAME}.ipynb": (2026, 3, 1, 11, 0, 0),
            f"smithjane_LATE_505_9102_{NAME}.ipynb": (2026, 3, 2, 9, 30, 0)})
        ws = Workspace(tmp_path / f"ws{order}")
        out, _ = dlf("import", str(archive), "--workspace", str(ws.path))
        assert "kept the latest" in out and "(LATE)" in out
        sub = ws.submissions()[0]
        assert sub.path.read_bytes() == KEY
        assert sub.meta["late"] is True and sub.meta["submitted_at"] == "2026-03-02T09:30:00"


def test_late_flags_and_submission_times_are_columns_of_the_export(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "canvas.zip", {f"smithjane_LATE_505_9102_{NAME}.ipynb": BLANK,
                                                 f"doejoe_606_9103_{NAME}.ipynb": BLANK})
    ws = Workspace(tmp_path / "ws")
    dlf("import", str(archive), "--workspace", str(ws.path))
    dlf("grade", "--workspace", str(ws.path), "--workers", "2")
    dlf("export", "--workspace", str(ws.path))
    rows = {r["student_id"]: r for r in csv.DictReader((ws.exports / "grades.csv").open(encoding="utf-8"))}
    assert rows["505"]["late"] == "yes" and rows["606"]["late"] == ""
    assert rows["505"]["timestamp"].startswith("2026-03-01 12:00:00")
    assert rows["505"]["name"] == "smithjane" and rows["505"]["lms_user_id"] == "505"
    canvas = list(csv.reader((ws.exports / "canvas.csv").open(encoding="utf-8")))
    assert canvas[0][:6] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", NAME]
    assert canvas[1][0].strip() == "Points Possible"
    assert {r[1] for r in canvas[2:]} == {"505", "606"}


def test_two_people_who_would_share_an_id_stop_the_import_naming_both(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "moodle.zip", {
        f"Jo Doe_99_assignsubmission_file_/{NAME}.ipynb": KEY,
        f"Jo Doe_100_assignsubmission_file_/{NAME}.ipynb": BLANK})
    ws = Workspace(tmp_path / "ws")
    _, err = dlf("import", str(archive), "--workspace", str(ws.path), code=1)
    assert "two students would share the id 'jo-doe'" in err and "99" in err and "100" in err
    assert not ws.submitted.exists(), "nothing is written"


def test_an_id_that_belongs_to_someone_else_is_never_overwritten(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    dlf("import", str(make_zip(tmp_path / "a.zip", {f"Jo Doe_99_assignsubmission_file_/{NAME}.ipynb": KEY})),
        "--workspace", str(ws.path))
    before = (ws.submitted / "jo-doe" / NAME / f"{NAME}.ipynb").read_bytes()
    out, _ = dlf("import", str(make_zip(tmp_path / "b.zip", {f"JO_DOE_7_assignsubmission_file_/{NAME}.ipynb": BLANK})),
                 "--workspace", str(ws.path))
    assert "1 new" in out  # filed as jo_doe, apart from jo-doe
    _, err = dlf("import", str(make_zip(tmp_path / "c.zip", {f"JO DOE_7_assignsubmission_file_/{NAME}.ipynb": BLANK})),
                 "--workspace", str(ws.path), code=1)
    assert "the id 'jo-doe' already belongs to 'Jo Doe'" in err and "'JO DOE'" in err
    assert (ws.submitted / "jo-doe" / NAME / f"{NAME}.ipynb").read_bytes() == before


def test_several_notebooks_in_a_folder_are_resolved_by_name_or_refused(tmp_path: Path) -> None:
    source = tmp_path / "in"
    write(source / "ada" / NAME / "my_solution.ipynb", key())
    write(source / "ada" / NAME / "scratch.ipynb", blank())
    ws = Workspace(tmp_path / "ws")
    _, err = dlf("import", str(source), "--workspace", str(ws.path), code=1)
    assert "ada/" in err and "my_solution.ipynb" in err and "scratch.ipynb" in err
    write(source / "ada" / NAME / f"{NAME}.ipynb", key())
    dlf("import", str(source), "--workspace", str(ws.path))
    assert ws.submissions()[0].path.read_bytes().strip() == KEY.strip()
    assert json.loads((ws.submitted / "ada" / NAME / SUBMISSION_META).read_text())["source"].endswith(f"{NAME}.ipynb")
    # grading refuses a folder that became ambiguous by hand, with a message, and grades the rest
    write(ws.submitted / "bob" / NAME / "draft.ipynb", blank())
    write(ws.submitted / "bob" / NAME / "final.ipynb", blank())
    out, err = dlf("grade", "--workspace", str(ws.path), "--workers", "1", code=1)
    assert "graded 1 submissions" in out and "bob/" in err and "draft.ipynb" in err


def test_canvas_files_of_one_hand_in_are_resolved_by_the_assignment_name(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "c.zip", {f"lee_707_9201_{NAME}-1.ipynb": KEY, "lee_707_9202_scratch.ipynb": BLANK},
                       times=None)
    ws = Workspace(tmp_path / "ws")
    out, _ = dlf("import", str(archive), "--workspace", str(ws.path), "--assignment", NAME)
    assert "kept the latest" in out and "scratch" in out
    assert ws.submissions()[0].path.read_bytes().strip() == KEY.strip()
    archive = make_zip(tmp_path / "d.zip", {"lee_707_9201_mine.ipynb": KEY, "lee_707_9202_scratch.ipynb": BLANK})
    _, err = dlf("import", str(archive), "--workspace", str(tmp_path / "ws2"), "--assignment", NAME, code=1)
    assert "mine.ipynb" in err and "scratch.ipynb" in err and "nothing was imported" in err


@pytest.mark.parametrize("name", ["smithjane_1234_5678_{}.ipynb", "Jo Doe_99_assignsubmission_file_/{}-1.ipynb"])
def test_lms_file_names_are_recognised(tmp_path: Path, name: str) -> None:
    archive = make_zip(tmp_path / "x.zip", {name.format(NAME): KEY})
    out, _ = dlf("import", str(archive), "--workspace", str(tmp_path / "ws"))
    assert "1 new" in out
