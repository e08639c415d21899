"""``dlf grade --scheduler``: the sample class graded on a two-worker Dask cluster started here
gets exactly the scores, comments and flags this machine gives it, whatever happens to the
cluster; and what comes back from a worker counts only for the submission it was sent for."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autograder.cluster import parcel as wire
from autograder.cluster.client import ClusterError, scheduler_address
from autograder.cluster.identity import grader_identity
from autograder.cluster.local import start
from autograder.cluster.worker import grade_parcel
from autograder.instructor import sample_class
from autograder.instructor.workspace import Workspace
from autograder.nb.course import ROOT, assignments, fast_gradebook
from tests.autograder.classes import dlf

NAME = "04_costs"
SOURCE = next(a for a in assignments() if a.name == NAME).source
# The looping student costs every run this long: short, so the whole file stays quick.
OPTIONS = ("--cell-timeout", "2")
STUDENTS = 10

pytestmark = pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="the sandbox needs Linux")


_TEMPLATE: list[Path] = []


def _class(path: Path) -> Workspace:
    """The sample class, byte for byte the same in every workspace (cell ids are random)."""
    ws = Workspace(path)
    if not _TEMPLATE:
        import atexit
        import tempfile

        template = Workspace(Path(tempfile.mkdtemp(prefix="dlf-cluster-class-")))
        atexit.register(shutil.rmtree, template.path, True)
        sample_class.generate(template, n_students=STUDENTS, names=[NAME])
        _TEMPLATE.append(template.submitted)
    shutil.copytree(_TEMPLATE[0], ws.submitted)
    return ws


def snapshot(ws: Workspace) -> dict[str, Any]:
    """Everything grading decided: result.json (less the time it took), the gradebook's
    automatic scores, comments and manual-grading flags, and the executed notebooks."""
    fast_gradebook()
    from nbgrader.api import Gradebook

    results = {}
    for path in sorted(ws.autograded.glob(f"*/{NAME}/result.json")):
        data = json.loads(path.read_text())
        data.pop("seconds")
        executed = path.parent / f"{NAME}.ipynb"  # none for a notebook that could not be read
        results[path.parent.parent.name] = (
            data, executed.read_text() if executed.exists() else None)
    books = {}
    with Gradebook(ws.db_url) as gb:
        for sub in gb.assignment_submissions(NAME):
            for nb in sub.notebooks:
                books[sub.student.id] = (
                    sorted((g.name, g.auto_score, g.needs_manual_grade) for g in nb.grades),
                    sorted((c.name, c.auto_comment) for c in nb.comments))
    return {"results": results, "gradebook": books}


def differences(got: Any, want: Any, where: str = "") -> list[str]:
    """Where two snapshots differ, and how, for a readable failure."""
    if isinstance(got, dict) and isinstance(want, dict):
        return [d for k in sorted(set(got) | set(want), key=str)
                for d in differences(got.get(k), want.get(k), f"{where}/{k}")]
    if isinstance(got, list | tuple) and isinstance(want, list | tuple) and len(got) == len(want):
        return [d for i, (g, w) in enumerate(zip(got, want, strict=True))
                for d in differences(g, w, f"{where}[{i}]")]
    if isinstance(got, list) and isinstance(want, list):
        return [f"{where}: only here {[g for g in got if g not in want]}, "
                f"only there {[w for w in want if w not in got]}"]
    return [] if got == want else [f"{where}: {str(got)[:200]} != {str(want)[:200]}"]


@pytest.fixture(scope="module")
def on_this_machine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    ws = _class(tmp_path_factory.mktemp("local") / "ws")
    dlf("grade", "--workspace", str(ws.path), "--workers", "2", "--scheduler", "local", *OPTIONS)
    found = snapshot(ws)
    assert len(found["results"]) == len(found["gradebook"]) == STUDENTS
    return found


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    local = start(workers=2)
    try:
        yield local
    finally:
        local.close(timeout=20)


def _client(address: str) -> Any:
    from distributed import Client

    return Client(address, set_as_default=False, timeout=20)


def test_the_cluster_grades_the_sample_class_exactly_as_this_machine_does(
        cluster: Any, on_this_machine: dict[str, Any], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _class(tmp_path / "ws")
    out, err = dlf("grade", "--workspace", str(ws.path), "--scheduler", cluster.scheduler_address,
                   *OPTIONS)
    assert f"graded {STUDENTS} submissions on the Dask cluster at {cluster.scheduler_address}" in out
    assert "refused" not in err
    assert not differences(snapshot(ws), on_this_machine)
    monkeypatch.setenv("DLF_SCHEDULER", cluster.scheduler_address)  # resumes as locally
    out, _ = dlf("grade", "--workspace", str(ws.path), *OPTIONS)
    assert f"graded 0 submissions on the Dask cluster at {cluster.scheduler_address}, " \
           f"reused {STUDENTS} unchanged results" in out


def _executing(dask_worker: Any) -> int:
    return len(dask_worker.state.executing)


def _killer(client: Any, killed: dict[str, Any]) -> threading.Thread:
    """A thread that kills (SIGKILL) the first worker it finds grading, once, mid-notebook."""

    def kill_one_while_it_grades() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            busy = [a for a, n in client.run(_executing).items() if n]
            if busy:
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                time.sleep(0.3)  # inside the notebook
                killed.update(address=busy[0], still_busy=client.run(_executing, workers=busy[:1]))
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)

    return threading.Thread(target=kill_one_while_it_grades)


def test_a_worker_killed_mid_notebook_changes_nothing_in_the_result(
        cluster: Any, on_this_machine: dict[str, Any], tmp_path: Path) -> None:
    ws = _class(tmp_path / "ws")
    client = _client(cluster.scheduler_address)
    killed: dict[str, Any] = {}
    killer = _killer(client, killed)
    try:
        killer.start()
        out, _ = dlf("grade", "--workspace", str(ws.path), "--scheduler", cluster.scheduler_address,
                     *OPTIONS)
        killer.join()
        assert killed and killed["still_busy"][killed["address"]] == 1, killed
        assert f"graded {STUDENTS} submissions" in out
        assert not differences(snapshot(ws), on_this_machine)
        client.wait_for_workers(2, timeout=60)  # its nanny starts it again, for the next tests
        assert killed["address"] not in client.scheduler_info()["workers"]
    finally:
        client.close()


def test_a_submission_the_cluster_gives_up_on_is_named_and_graded_on_the_next_run(
        cluster: Any, on_this_machine: dict[str, Any], tmp_path: Path) -> None:
    # A cluster gives up on a task whose workers died under it more than allowed-failures
    # times (Dask's KilledWorker: a notebook that kills its worker every time looks like this).
    ws = _class(tmp_path / "ws")
    client = _client(cluster.scheduler_address)
    allowed = cluster.scheduler.allowed_failures
    cluster.scheduler.allowed_failures = 0
    killed: dict[str, Any] = {}
    killer = _killer(client, killed)
    try:
        killer.start()
        out, err = dlf("grade", "--workspace", str(ws.path), "--scheduler",
                       cluster.scheduler_address, *OPTIONS, code=1)
        killer.join()
        assert killed, "no worker was killed"
        given_up = [ln for ln in err.splitlines() if ln.startswith("not graded: ")]
        assert given_up and all("the cluster gave up on it" in ln and
                                ln.endswith("it is graded again on the next run")
                                for ln in given_up), err
        kept = snapshot(ws)
        assert len(kept["results"]) == STUDENTS - len(given_up)
        assert set(kept["results"]) == set(kept["gradebook"])
        assert all(f"not graded: {student}/" not in err for student in kept["results"])
        assert f"graded {STUDENTS - len(given_up)} submissions" in out
    finally:
        cluster.scheduler.allowed_failures = allowed
        client.wait_for_workers(2, timeout=60)
        client.close()
    out, _ = dlf("grade", "--workspace", str(ws.path), "--scheduler", cluster.scheduler_address,
                 *OPTIONS)
    assert f"graded {len(given_up)} submissions" in out
    assert f"reused {STUDENTS - len(given_up)} unchanged results" in out
    assert not differences(snapshot(ws), on_this_machine)


def _copy_of_the_grader(path: Path, change: str) -> Path:
    """This course's grader, copied, with one change: its version, or one line of a spec."""
    for tree in ("autograder", "reference_impl", "solutions"):
        shutil.copytree(ROOT / tree, path / tree, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("requirements.txt", "pyproject.toml"):
        shutil.copy(ROOT / name, path / name)
    if change == "version":
        init = path / "autograder" / "__init__.py"
        init.write_text(init.read_text().replace('__version__ = "', '__version__ = "0.0.9-old+'))
    else:
        spec = path / "autograder" / "specs" / "nb04.py"
        spec.write_text(spec.read_text() + "\n# an edit of the answer key\n")
    return path


@pytest.fixture()
def other_graders(cluster: Any, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Two more workers join the cluster: one of an older version, one with an edited spec."""
    procs = []
    names = {"old-grader": "version", "edited-grader": "spec"}
    try:
        for name, change in names.items():
            copy = _copy_of_the_grader(tmp_path / name, change)
            env = dict(os.environ, PYTHONPATH=str(copy))
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address,
                 "--name", name, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                 "--host", "127.0.0.1"], cwd=copy, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        client = _client(cluster.scheduler_address)
        try:
            client.wait_for_workers(4, timeout=60)
        finally:
            client.close()
        yield names
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def test_workers_of_another_grader_are_refused_by_name(
        cluster: Any, other_graders: dict[str, str], on_this_machine: dict[str, Any],
        tmp_path: Path) -> None:
    ws = _class(tmp_path / "ws")
    out, err = dlf("grade", "--workspace", str(ws.path), "--scheduler", cluster.scheduler_address,
                   *OPTIONS)
    ours = grader_identity()
    refused = [ln for ln in err.splitlines() if "refused" in ln]
    assert len(refused) == 2, err
    old = next(ln for ln in refused if ln.startswith("worker old-grader ("))
    assert "it runs grader 0.0.9-old+" in old and f"this client runs grader {ours['version']}" in old
    edited = next(ln for ln in refused if ln.startswith("worker edited-grader ("))
    assert f"it runs grader {ours['version']}, code " in edited  # same version, other code
    assert ours["code"][:12] in edited
    assert f"graded {STUDENTS} submissions" in out
    assert not differences(snapshot(ws), on_this_machine)


def test_a_worker_that_changed_after_the_check_refuses_its_parcels_which_are_graded_elsewhere(
        cluster: Any, other_graders: dict[str, str], on_this_machine: dict[str, Any],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from autograder.cluster import client

    # The check at the start is fooled (as by a worker whose checkout changed after it):
    # every worker seems to run this grader, so parcels reach the other graders too.
    monkeypatch.setattr(client._Run, "_identities",
                        lambda self, addresses: {a: grader_identity() for a in addresses})
    ws = _class(tmp_path / "ws")
    out, err = dlf("grade", "--workspace", str(ws.path), "--scheduler", cluster.scheduler_address,
                   *OPTIONS)
    refused = [ln for ln in err.splitlines() if "refused" in ln]
    assert refused and all(ln.startswith(("worker old-grader", "worker edited-grader"))
                           for ln in refused), err
    assert f"graded {STUDENTS} submissions" in out
    assert not differences(snapshot(ws), on_this_machine)


def test_a_scheduler_that_goes_away_stops_the_run_and_keeps_what_was_graded(
        on_this_machine: dict[str, Any], tmp_path: Path) -> None:
    ws = _class(tmp_path / "ws")
    doomed = start(workers=1)
    outcome: dict[str, Any] = {}

    def grade() -> None:
        outcome["out"] = dlf("grade", "--workspace", str(ws.path), "--scheduler",
                             doomed.scheduler_address, *OPTIONS, code=1)

    grading = threading.Thread(target=grade)
    try:
        grading.start()
        deadline = time.monotonic() + 90
        while not list(ws.autograded.glob("*/*/result.json")) and time.monotonic() < deadline:
            time.sleep(0.1)
        doomed.sync(doomed.scheduler.close)
        grading.join(timeout=60)
    finally:
        try:
            doomed.close(timeout=2)  # its scheduler is gone: only the workers are left to stop
        except Exception:
            pass
    _, err = outcome["out"]
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: the Dask scheduler at "), err
    assert "went away after" in lines[0] and "run dlf grade again" in lines[0]
    kept = snapshot(ws)
    assert 1 <= len(kept["results"]) < STUDENTS
    assert set(kept["results"]) == set(kept["gradebook"])  # nothing half-written
    out, _ = dlf("grade", "--workspace", str(ws.path), "--workers", "2", "--scheduler", "local",
                 *OPTIONS)
    assert f"reused {len(kept['results'])} unchanged results" in out
    assert not differences(snapshot(ws), on_this_machine)


def _parcel(tmp_path: Path) -> dict[str, Any]:
    ws = _class(tmp_path / "ws")
    sub = next(s for s in ws.submissions([NAME]) if "-bruno" in s.student)
    return wire.pack(sub.path, NAME, NAME, None, grader_identity())


def test_a_reply_counts_only_for_the_parcel_it_was_computed_for(tmp_path: Path) -> None:
    parcel = _parcel(tmp_path)
    reply = json.loads(grade_parcel(parcel))
    assert reply["token"] == parcel["token"] and "result" in reply
    reply["result"]["student"] = "mallory"  # a worker's word on who it was is not taken
    read = wire.read_reply(json.dumps(reply).encode(), parcel, source=SOURCE, student="s002-bruno")
    assert isinstance(read, wire.Graded) and read.result.student == "s002-bruno"
    other = dict(parcel, token="0" * 32)
    with pytest.raises(wire.ReplyRefused, match="token"):
        wire.read_reply(json.dumps(reply).encode(), other, source=SOURCE, student="s002-bruno")
    with pytest.raises(wire.ReplyRefused, match="another notebook"):
        wire.read_reply(json.dumps(reply).encode(), dict(parcel, notebook=b"{}"), source=SOURCE,
                        student="s002-bruno")
    forged = json.loads(json.dumps(reply))
    forged["result"]["items"][0]["points"] = 1e9
    with pytest.raises(wire.ReplyRefused, match="scores"):
        wire.read_reply(json.dumps(forged).encode(), parcel, source=SOURCE, student="s002-bruno")
    forged = json.loads(json.dumps(reply))
    forged["result"]["items"].pop()
    with pytest.raises(wire.ReplyRefused, match="graded cells"):
        wire.read_reply(json.dumps(forged).encode(), parcel, source=SOURCE, student="s002-bruno")


def test_a_reply_that_is_not_plain_json_is_refused_unread(tmp_path: Path) -> None:
    parcel = _parcel(tmp_path)

    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, ("touch /tmp/pwned",))

    for raw in (Evil(), {"token": parcel["token"]}, b"\x80\x04not json"):
        with pytest.raises(wire.ReplyRefused):
            wire.read_reply(raw, parcel, source=SOURCE, student="s002-bruno")


class _Booby:
    """Unpickling this opens (creates) a file: proof that a reply was executed."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.marker, "w"))


def _booby_trapped_reply(marker: str) -> _Booby:
    return _Booby(marker)


def test_the_client_never_unpickles_what_a_worker_sends(cluster: Any, tmp_path: Path) -> None:
    from autograder.cluster.client import connect

    marker = tmp_path / "executed"
    client = connect(cluster.scheduler_address)
    try:
        fut = client.submit(_booby_trapped_reply, str(marker), pure=False)
        with pytest.raises(Exception, match="msgpack"):
            fut.result(timeout=60)
        assert client.submit(len, b"plain", pure=False).result(timeout=60) == 5
    finally:
        client.close()
    assert not marker.exists()


def test_a_parcel_from_a_client_of_another_grader_is_not_graded(tmp_path: Path) -> None:
    parcel = _parcel(tmp_path)
    parcel["identity"] = dict(parcel["identity"], code="0" * 64)
    reply = wire.read_reply(grade_parcel(parcel), parcel, source=SOURCE, student="s002-bruno")
    assert isinstance(reply, wire.WrongGrader) and reply.identity == grader_identity()


def test_a_parcel_holds_bytes_never_a_path_or_the_student(tmp_path: Path) -> None:
    ws = _class(tmp_path / "ws")
    sub = next(s for s in ws.submissions([NAME]) if "-bruno" in s.student)
    (sub.path.parent / "data.csv").write_text("1,2\n")
    (sub.path.parent / "answers").symlink_to(ROOT / "solutions")
    parcel = wire.pack(sub.path, NAME, NAME, None, grader_identity())
    text = repr(parcel)
    assert str(tmp_path) not in text and sub.student not in text
    assert parcel["files"] == [["data.csv", b"1,2\n"]]
    assert any("symbolic link answers" in f for f in parcel["flags"])


def test_the_scheduler_comes_from_the_option_the_environment_or_the_course_config(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "nbgrader_config.py").write_text(
        'c = get_config()\nc.Dlf.scheduler = "tcp://grading.example:8786"\n')
    monkeypatch.delenv("DLF_SCHEDULER", raising=False)
    assert scheduler_address(None, tmp_path) == "tcp://grading.example:8786"
    monkeypatch.setenv("DLF_SCHEDULER", "tcp://10.0.0.1:8786")
    assert scheduler_address(None, tmp_path) == "tcp://10.0.0.1:8786"
    assert scheduler_address("tcp://127.0.0.1:1", tmp_path) == "tcp://127.0.0.1:1"
    assert scheduler_address("local", tmp_path) is None
    monkeypatch.delenv("DLF_SCHEDULER")
    assert scheduler_address(None, ROOT) is None  # the course's own config: this machine


def test_no_scheduler_at_the_address_is_one_clear_line(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from autograder.cluster import client

    monkeypatch.setattr(client, "CONNECT_SECONDS", 2.0)
    ws = _class(tmp_path / "ws")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free, and nothing listens once closed
    _, err = dlf("grade", "--workspace", str(ws.path), "--scheduler", f"tcp://127.0.0.1:{port}",
                 code=1)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "no Dask scheduler answers at" in lines[0], err
    assert ClusterError.__doc__


def test_cluster_local_starts_a_scheduler_and_its_workers_until_interrupted() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "autograder.cli", "cluster-local", "--workers", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("Dask scheduler at tcp://127.0.0.1:") and "with 1 workers" in first
        address = first.split()[3]
        assert f"dlf grade --scheduler {address}" in proc.stdout.readline()
        client = _client(address)
        try:
            client.wait_for_workers(1, timeout=60)
            assert client.run(grader_identity) == {
                a: grader_identity() for a in client.scheduler_info()["workers"]}
        finally:
            client.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
