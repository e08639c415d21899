"""Each protection of the sandbox, pinned: the attack fails with every step, and succeeds with
that one step left out, so deleting the step from the code fails its test.

The sandboxes here run a few code cells each through ``autograder.sandbox.executor``;
``skip`` leaves out named steps of ``autograder.sandbox.steps``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from autograder.grading import keys
from autograder.nb.course import ROOT, assignments
from autograder.sandbox import steps
from autograder.sandbox.executor import Execution, Zygote, execute, site_dirs, zygote_for
from autograder.sandbox.files import SubmissionRefused, open_course_files, open_submission
from autograder.sandbox.limits import Limits
from autograder.sandbox.stream import EventStream

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux namespaces")

VIEW = keys.view_dir(assignments()[0].name)
QUICK = Limits(cell_timeout=20.0, notebook_timeout=40.0)


def sandboxed(*sources: str, skip: tuple[str, ...] = (), limits: Limits = QUICK,
              zygote: Zygote | None = None, **kwargs: object) -> Execution:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    return execute(nb, view=VIEW, limits=limits, skip=skip, zygote=zygote, **kwargs)  # type: ignore[arg-type]


def said(run: Execution, cell: int = 0) -> str:
    """What a cell printed (and the error it raised)."""
    ran = run.cells.get(cell)
    assert ran is not None, (run.fatal, run.violations)
    return ran.output + (ran.error or "")


def protected_by(step: str) -> None:
    """The step must exist and have taken effect on this machine."""
    assert step in steps.NAMES
    isolation = sandboxed("pass").isolation
    if step not in isolation:
        pytest.skip(f"{step!r} is not available here; the sandbox ran with {isolation}")


def test_the_sandbox_reports_every_protection_it_applied() -> None:
    run = sandboxed("print('hello')")
    assert said(run) == "hello\n"
    assert not run.violations and run.fatal is None
    for step in ("mount namespace", "no network", "pid namespace", "allow-list root", "read-only",
                 "private /tmp", "fresh /proc", "minimal /dev", "no capabilities",
                 "no new privileges", "memory limit", "file size limit", "cpu time limit"):
        assert step in run.isolation, (step, run.missing)
    from autograder.sandbox import kernel

    # The cgroup steps depend on the machine; where it lets the grader make a group, the
    # step must have taken effect (their own tests skip when it did not).
    for controller, step in (("pids", "process cap (cgroup)"), ("memory", "memory cap (cgroup)"),
                             ("cpu", "cpu share (cgroup)")):
        if kernel.new_cgroup(controller, os.getpid()) is not None:
            assert step in run.isolation, (step, run.missing)


# --- network ----------------------------------------------------------------------------------

CONNECT = """
import socket
print(sorted(name for _, name in socket.if_nameindex()))
s = socket.socket()
s.settimeout(3)
try:
    s.connect(("127.0.0.1", {port}))
    print("CONNECTED")
except OSError as exc:
    print("REFUSED", exc)
"""


def test_no_network_not_even_the_graders_loopback() -> None:
    protected_by("no network")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        code = CONNECT.format(port=listener.getsockname()[1])
        inside = said(sandboxed(code))
        assert "['lo']" in inside and "REFUSED" in inside and "unreachable" in inside
        assert "CONNECTED" in said(sandboxed(code, skip=("no network",)))
    finally:
        listener.close()


# --- what the sandbox can see ---------------------------------------------------------------

def _exists(paths: list[str]) -> str:
    return f"import os\nfor p in {paths!r}:\n    print(p, os.path.exists(p))"


def test_the_repository_workspace_and_the_machines_tmp_are_absent(tmp_path: Path) -> None:
    protected_by("allow-list root")
    workspace = tmp_path / "workspace"
    (workspace / "submitted").mkdir(parents=True)
    marker = Path("/tmp") / f"dlf-other-sandbox-{uuid.uuid4().hex}"
    marker.mkdir()
    try:
        paths = [str(ROOT / "solutions"), str(ROOT / "autograder" / "specs"), str(ROOT / ".git"),
                 str(workspace / "submitted"), str(marker), "/root/.bashrc", "/home", "/etc/shadow",
                 "/sys/fs/cgroup", "/var", "/run"]
        paths = [p for p in paths if os.path.exists(p)]  # what the machine has, the sandbox must not
        inside = said(sandboxed(_exists(paths)))
        assert "True" not in inside, inside
        without = said(sandboxed(_exists(paths), skip=("allow-list root",)))
        outside_tmp = [p for p in paths if not p.startswith("/tmp/")]
        assert outside_tmp and all(f"{p} True" in without for p in outside_tmp), without
    finally:
        marker.rmdir()


def test_course_packages_installed_into_site_packages_are_hidden(tmp_path: Path) -> None:
    protected_by("no installed course packages")
    site = tmp_path / "site-packages"
    for package in ("autograder", "reference_impl"):
        (site / package).mkdir(parents=True)
        (site / package / "answer_key.py").write_text("KEY = 42\n")
    zygote = Zygote(VIEW, sites=[*site_dirs(), str(site)])
    zygote.start()
    try:
        code = _exists([str(site / "autograder" / "answer_key.py"),
                        str(site / "reference_impl" / "answer_key.py")])
        assert "True" not in said(sandboxed(code, zygote=zygote))
        assert "False" not in said(sandboxed(code, zygote=zygote,
                                             skip=("no installed course packages",)))
    finally:
        zygote.close()


WRITE = """
import os, sys, autograder
for target in {targets!r}:
    try:
        with open(target, "a") as fh:
            fh.write("# written from a sandbox\\n")
        print("WROTE", target)
    except OSError as exc:
        print("REFUSED", target, exc.strerror)
"""


def test_the_system_the_venv_and_the_view_are_read_only() -> None:
    protected_by("read-only")
    site = site_dirs()[0]
    view_file = str(VIEW / "autograder" / "dlf-sandbox-write-test.py")
    targets = ["/usr/dlf-sandbox-write-test", f"{sys.prefix}/dlf-sandbox-write-test",
               f"{site}/dlf-sandbox-write-test.pth", view_file, "/dlf-sandbox-write-test",
               "/etc/passwd", f"{site}/numpy/__init__.py"]
    inside = said(sandboxed(WRITE.format(targets=targets)))
    assert "WROTE" not in inside and inside.count("REFUSED") == len(targets), inside
    try:  # only the view, a copy of ours, is written when the step is left out
        without = said(sandboxed(WRITE.format(targets=[view_file]), skip=("read-only",)))
        assert f"WROTE {view_file}" in without
    finally:
        Path(view_file).unlink(missing_ok=True)


# --- /tmp -------------------------------------------------------------------------------------

FILL = """
import os
print("CWD", os.getcwd())
print(sorted(os.listdir("/tmp")))
written = 0
try:
    for i in range(64):
        with open(f"/tmp/{name}-{{i}}", "wb") as fh:
            fh.write(b"x" * 1024**2)
        written += 1
except OSError as exc:
    print("FULL", exc.strerror)
print("WRITTEN", written, "MB")
"""


def test_tmp_is_private_capped_and_gone_afterwards() -> None:
    protected_by("private /tmp")
    host = Path("/tmp") / f"dlf-host-marker-{uuid.uuid4().hex}"
    host.write_text("the grader's /tmp")
    name = f"dlf-leftover-{uuid.uuid4().hex}"
    small = Limits(cell_timeout=20.0, notebook_timeout=40.0, tmp_bytes=16 * 1024**2)
    try:
        inside = said(sandboxed(FILL.format(name=name), limits=small))
        assert host.name not in inside, "the machine's /tmp is not shown"
        assert "FULL No space left on device" in inside
        assert int(inside.split("WRITTEN")[1].split()[0]) <= 16
        assert not list(Path("/tmp").glob(f"{name}*")), "nothing stays behind"
        without = said(sandboxed(FILL.format(name=name), limits=small, skip=("private /tmp",)))
        workdir = Path(without.split("CWD")[1].split()[0])  # made in the machine's /tmp
        assert host.name in without and "WRITTEN 64 MB" in without
        assert len(list(Path("/tmp").glob(f"{name}*"))) == 64 and workdir.is_dir()
        workdir.rmdir()
    finally:
        host.unlink()
        for path in Path("/tmp").glob(f"{name}*"):
            path.unlink()


# --- limits -----------------------------------------------------------------------------------

def test_memory_is_limited() -> None:
    protected_by("memory limit")
    code = ("import numpy as np\ntry:\n    a = np.zeros(2 * 1024**3, dtype=np.uint8)\n"
            "    print('ALLOCATED')\nexcept MemoryError:\n    print('REFUSED')")
    limits = Limits(cell_timeout=20.0, notebook_timeout=40.0, memory_bytes=256 * 1024**2)
    assert "REFUSED" in said(sandboxed(code, limits=limits))
    assert "ALLOCATED" in said(sandboxed(code, limits=limits, skip=("memory limit",)))


HOGS = """
import os, time
import numpy as np
kids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        hog = np.ones(100 * 1024**2, dtype=np.uint8)  # each under the per-process limit
        time.sleep(3)
        os._exit(0)
    kids.append(pid)
ended = [os.waitpid(pid, 0)[1] for pid in kids]
print("HELD", sum(s == 0 for s in ended), "KILLED", sum(os.WIFSIGNALED(s) for s in ended))
"""


def test_the_sandboxs_processes_share_one_memory_cap() -> None:
    protected_by("memory cap (cgroup)")
    # 4 x 100 MB held at once, each under its own 128 MB: the cap for them all is
    # 128 MB + the 64 MB /tmp + the 16 MB /dev/shm.
    limits = Limits(cell_timeout=20.0, notebook_timeout=40.0, memory_bytes=128 * 1024**2,
                    tmp_bytes=64 * 1024**2)
    capped = sandboxed(HOGS, limits=limits)
    held = said(capped)
    assert "HELD" in held and int(held.split("KILLED")[1]) >= 2, held
    assert capped.oom_kills >= 2 and capped.fatal is None  # the notebook itself went on
    without = said(sandboxed(HOGS, limits=limits, skip=("memory cap (cgroup)",)))
    assert "HELD 4 KILLED 0" in without, without


def test_a_notebook_stopped_by_the_memory_cap_is_told_so() -> None:
    protected_by("memory cap (cgroup)")
    code = ("import os, time\nimport numpy as np\n"
            "if os.fork() == 0:\n    hog = np.ones(100 * 1024**2, dtype=np.uint8)\n"
            "    time.sleep(5)\n    os._exit(0)\n"
            "open('/proc/self/oom_score_adj', 'w').write('1000')  # the kernel is the one to go\n"
            "time.sleep(0.5)\nopen('/tmp/fill', 'wb').write(b'x' * 60 * 1024**2)\n"
            "hog = np.ones(100 * 1024**2, dtype=np.uint8)\nprint('SURVIVED')")
    limits = Limits(cell_timeout=20.0, notebook_timeout=40.0, memory_bytes=128 * 1024**2,
                    tmp_bytes=64 * 1024**2)
    run = sandboxed(code, limits=limits)
    assert run.fatal is not None and "ran out of memory" in run.fatal and "208 MB" in run.fatal, \
        (run.fatal, said(run))


BUSY = """
import os, time
end = time.time() + 5
for _ in range(8):
    if os.fork() == 0:
        while time.time() < end:
            pass
        os._exit(0)
while time.time() < end:
    pass
"""
MEASURE = """
import time
time.sleep(1.5)  # the busy neighbour is running by now
wall, cpu = time.time(), time.process_time()
while time.time() - wall < 2:
    pass
print("SHARE", (time.process_time() - cpu) / (time.time() - wall))
"""


def _cpu_share_beside_a_busy_neighbour(skip: tuple[str, ...]) -> float:
    """The share of a core a one-process notebook gets while another runs nine."""
    busy_zygote, measure_zygote = Zygote(VIEW), Zygote(VIEW)
    busy_zygote.start()
    measure_zygote.start()
    try:
        busy = threading.Thread(target=sandboxed, args=(BUSY,),
                                kwargs={"skip": skip, "zygote": busy_zygote})
        busy.start()
        measured = said(sandboxed(MEASURE, skip=skip, zygote=measure_zygote))
        busy.join()
    finally:
        busy_zygote.close()
        measure_zygote.close()
    return float(measured.split("SHARE")[1])


def test_a_sandbox_busy_on_many_cores_leaves_its_neighbour_its_share() -> None:
    protected_by("cpu share (cgroup)")
    shared = _cpu_share_beside_a_busy_neighbour(())
    crowded = _cpu_share_beside_a_busy_neighbour(("cpu share (cgroup)",))
    # Nine busy processes beside one: without groups the one gets about 1/10 of the cores;
    # with a group per sandbox, half of them (up to the one core it can use).
    assert shared > 2 * crowded, (shared, crowded)


def test_cpu_time_is_limited_even_when_the_alarm_is_ignored() -> None:
    protected_by("cpu time limit")
    code = "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass"
    limits = Limits(cell_timeout=30.0, notebook_timeout=6.0, cpu_seconds=1.0)
    run = sandboxed(code, limits=limits)
    assert run.fatal is not None and "CPU time" in run.fatal and run.seconds < 5.0
    without = sandboxed(code, limits=limits, skip=("cpu time limit",))
    assert without.fatal is not None and "longer than 6 s" in without.fatal


FORK = """
import os, time
kids = []
for _ in range(40):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    kids.append(pid)
print("FORKED", len(kids))
"""


def test_processes_are_limited() -> None:
    limits = Limits(cell_timeout=20.0, notebook_timeout=40.0, max_processes=8)
    isolation = sandboxed("pass", limits=limits).isolation
    step = "process cap (cgroup)" if "process cap (cgroup)" in isolation else "process limit"
    if step not in isolation:
        pytest.skip(f"no process limit is available here: {isolation}")
    assert int(said(sandboxed(FORK, limits=limits)).split("FORKED")[1]) <= 8
    assert int(said(sandboxed(FORK, limits=limits, skip=(step,))).split("FORKED")[1]) == 40


def test_file_size_is_limited() -> None:
    protected_by("file size limit")
    code = ("try:\n    open('big', 'wb').write(b'x' * 4 * 1024**2)\n    print('WROTE')\n"
            "except OSError as exc:\n    print('REFUSED', exc.strerror)")
    limits = Limits(cell_timeout=20.0, notebook_timeout=40.0, max_file_bytes=1024**2)
    assert "REFUSED File too large" in said(sandboxed(code, limits=limits))
    assert "WROTE" in said(sandboxed(code, limits=limits, skip=("file size limit",)))


# --- processes --------------------------------------------------------------------------------

PROCESSES = f"""
import os
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print("PIDS", len(pids), "SELF", os.getpid(), "GRADER_SEEN", {os.getpid()} in pids)
try:
    os.kill({os.getpid()}, 0)
    print("SIGNALLED")
except ProcessLookupError:
    print("NO SUCH PROCESS")
"""


def test_a_pid_namespace_hides_and_shields_the_graders_processes() -> None:
    protected_by("pid namespace")
    inside = said(sandboxed(PROCESSES))
    assert "SELF 2 " in inside and "GRADER_SEEN False" in inside and "NO SUCH PROCESS" in inside
    assert int(inside.split("PIDS")[1].split()[0]) < 5
    without = said(sandboxed(PROCESSES, skip=("pid namespace",)))
    assert "GRADER_SEEN True" in without and "SIGNALLED" in without


def test_no_capabilities_are_left() -> None:
    protected_by("no capabilities")
    code = "print([l for l in open('/proc/self/status') if l.startswith('CapEff')][0])"
    assert "CapEff:\t0000000000000000" in said(sandboxed(code))
    assert "CapEff:\t0000000000000000" not in said(sandboxed(code, skip=("no capabilities",)))


# --- the channel ------------------------------------------------------------------------------

INTRUDER = """
import os, time
written = []
deadline = time.time() + 4
while time.time() < deadline and not written:
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("pipe:"):
                    out = os.open(f"/proc/{pid}/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK)
                    os.write(out, b"FOREIGN-LINE from another sandbox\\n")
                    written.append((pid, fd))
            except OSError:
                continue
    time.sleep(0.05)
print("WROTE INTO", written)
"""


def _side_by_side(skip: tuple[str, ...]) -> tuple[Execution, Execution]:
    """A honest notebook and an intruder, in two sandboxes running at the same time."""
    honest_zygote, intruder_zygote = Zygote(VIEW), Zygote(VIEW)
    honest_zygote.start()
    intruder_zygote.start()
    runs: dict[str, Execution] = {}
    try:
        honest = threading.Thread(target=lambda: runs.setdefault(
            "honest", sandboxed("import time\ntime.sleep(3)", "print('done')", skip=skip,
                                zygote=honest_zygote)))
        honest.start()
        time.sleep(0.5)
        runs["intruder"] = sandboxed(INTRUDER, skip=skip, zygote=intruder_zygote)
        honest.join()
    finally:
        honest_zygote.close()
        intruder_zygote.close()
    return runs["honest"], runs["intruder"]


def test_no_sandbox_can_write_into_another_sandboxs_stream() -> None:
    protected_by("pid namespace")
    honest, intruder = _side_by_side(())
    assert "WROTE INTO []" in said(intruder)
    assert not honest.violations and said(honest, 1) == "done\n"
    honest, intruder = _side_by_side(("pid namespace",))
    assert "WROTE INTO []" not in said(intruder)
    assert any("FOREIGN-LINE" in v for v in honest.violations), honest.violations


def test_the_stream_has_no_path_on_the_machine() -> None:
    run = sandboxed("import os\nfor f in os.listdir('/proc/self/fd'):\n    try:\n"
                    "        print(os.readlink(f'/proc/self/fd/{f}'))\n    except OSError:\n        pass")
    links = said(run).split()
    assert "pipe:" in " ".join(links)
    assert all(link.startswith(("pipe:", "/memfd:", "(deleted)", "/dev/null", "/proc/")) for link in links), links


def test_the_hidden_blob_reaches_the_check_library_before_any_student_code() -> None:
    run = sandboxed("from autograder.checks import channel\nprint(channel.hidden_blob)",
                    hidden_blob=b"\x00hidden inputs\xff")
    assert said(run) == "b'\\x00hidden inputs\\xff'\n"


def _stream(*lines: str, order: tuple[int, ...] = (0, 1), keep: dict[int, int] | None = None,
            max_bytes: int = 1 << 20) -> EventStream:
    stream = EventStream(list(order), keep or {1: 1}, max_bytes)
    stream.feed("".join(line + "\n" for line in lines).encode())
    stream.finish()
    return stream


START0, END0, START1, END1 = ('{"e": "start", "i": 0}', '{"e": "end", "i": 0}',
                              '{"e": "start", "i": 1}', '{"e": "end", "i": 1}')
RECORD = '{"e": "record", "id": "01.x", "hidden": false, "obs": []}'
EXIT = '{"e": "exit", "status": 0}'


def test_records_belong_to_the_cell_they_arrived_in() -> None:
    stream = _stream('{"e": "isolation", "applied": ["pid namespace"]}', START0, RECORD, END0,
                     START1, RECORD, RECORD, RECORD, END1, EXIT)
    assert not stream.violations and stream.isolation == ["pid namespace"]
    assert stream.cells[0].n_records == 1 and stream.cells[0].records == []  # not a test cell
    assert stream.cells[1].n_records == 3 and len(stream.cells[1].records) == 2  # kept: 1 + 1


@pytest.mark.parametrize(("lines", "words"), [
    ((START1, END1, EXIT), "cell 2 started where cell 1 was next"),
    ((START0, START1), "started before cell 1 ended"),
    ((START0, END0, END0), "ended without having started"),
    ((RECORD,), "outside any cell"),
    ((START0, END0, EXIT, START1), "after the sandbox's exit"),
    ((START0, '{"id": "01.x", "cell": 3, "obs": []}'), "not an event"),
    ((START0, "garbage"), "not an event"),
    ((START0, '{"e": "verdict", "passed": true}'), "unknown event"),
    ((START0, END0, '{"e": "isolation", "applied": []}'), "isolation report"),
    ((START0, '{"e": "start", "i": "x"}'), "malformed"),
])
def test_a_stream_that_breaks_the_grammar_is_tampering(lines: tuple[str, ...], words: str) -> None:
    stream = _stream(*lines)
    assert stream.tampered and any(words in v for v in stream.violations), stream.violations


def test_a_flood_stops_reading_at_the_cap() -> None:
    stream = EventStream([0], {}, 1000)
    stream.feed((START0 + "\n" + RECORD * 100).encode())
    stream.finish()
    assert stream.flooded and stream.bytes_read == 1000 and not stream.violations


# --- submission files -------------------------------------------------------------------------

def _folder_with_links(tmp_path: Path) -> Path:
    folder = tmp_path / "submitted" / "mallory" / "01_unit_to_network"
    folder.mkdir(parents=True)
    notebook = folder / "01_unit_to_network.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")]), notebook)
    (folder / "data.csv").write_text("1,2,3\n")
    (folder / "answers").symlink_to(ROOT / "solutions")
    (folder / "key.txt").symlink_to(ROOT / "README.md")
    return notebook


def test_symbolic_links_beside_a_notebook_are_never_followed(tmp_path: Path) -> None:
    notebook = _folder_with_links(tmp_path)
    listing = "import os\nprint(sorted(os.listdir('.')))\nprint(os.path.exists('key.txt'))"
    handed_in = open_submission(notebook, max_files=10, max_bytes=1024**2)
    assert [n for n, _ in handed_in.files] == ["data.csv"]
    assert any("answers ->" in f for f in handed_in.flags) and any("key.txt ->" in f for f in handed_in.flags)
    assert said(sandboxed(listing, files=handed_in)) == "['data.csv']\nFalse\n"
    followed = open_submission(notebook, max_files=10, max_bytes=1024**2, follow_symlinks=True)
    assert said(sandboxed(listing, files=followed)) == "['data.csv', 'key.txt']\nTrue\n"


def test_a_linked_notebook_or_folder_is_refused(tmp_path: Path) -> None:
    notebook = _folder_with_links(tmp_path)
    linked = notebook.parent / "linked.ipynb"
    linked.symlink_to(ROOT / "solutions" / "01_unit_to_network" / "01_unit_to_network.ipynb")
    with pytest.raises(SubmissionRefused, match="symbolic link"):
        open_submission(linked, max_files=10, max_bytes=1024**2)
    folder = tmp_path / "submitted" / "trudy"
    folder.mkdir()
    (folder / "01_unit_to_network").symlink_to(ROOT / "solutions" / "01_unit_to_network")
    with pytest.raises(SubmissionRefused, match=r"folder .* is a symbolic link"):
        open_submission(folder / "01_unit_to_network" / "01_unit_to_network.ipynb",
                        max_files=10, max_bytes=1024**2)
    assert open_submission(linked, max_files=10, max_bytes=1024**2, follow_symlinks=True).notebook


def test_an_assignments_own_files_are_copied_in_first_and_win_over_the_students(tmp_path: Path) -> None:
    notebook = _folder_with_links(tmp_path)
    course = tmp_path / "source" / "ps1"
    (course / "data").mkdir(parents=True)
    (course / "data.csv").write_text("the course's\n")
    (course / "data" / "table.txt").write_text("nested\n")
    (course / "linked.txt").symlink_to(ROOT / "README.md")
    handed_in = open_submission(notebook, max_files=10, max_bytes=1024**2)
    problems = open_course_files([("data.csv", str(course / "data.csv")),
                                  ("data/table.txt", str(course / "data" / "table.txt")),
                                  ("linked.txt", str(course / "linked.txt")),
                                  ("../escape.txt", str(course / "data.csv"))], handed_in)
    assert any("linked.txt is a symbolic link" in p for p in problems)
    assert any("leaves its folder" in p for p in problems)
    code = ("import os\nprint(sorted(os.listdir('.')), open('data.csv').read().strip(), "
            "open('data/table.txt').read().strip())")
    assert said(sandboxed(code, files=handed_in)) == "['data', 'data.csv'] the course's nested\n"


def test_a_cells_stderr_and_displayed_value_come_back_apart_from_its_stdout() -> None:
    run = sandboxed("print('out'); import sys; sys.stderr.write('warned\\n'); 0.5", "x = 1;",
                    "import os; os.environ['NBGRADER_EXECUTION']")
    first = run.cells[0]
    assert (first.output, first.stderr, first.value) == ("out\n", "warned\n", "0.5")
    assert run.cells[1].value is None  # a trailing semicolon displays nothing, as in Jupyter
    assert run.cells[2].value == "'autograde'"  # what nbgrader autograde sets
    kinds = [(o.output_type, o.get("name")) for o in run.notebook.cells[0].outputs]
    assert kinds == [("stream", "stdout"), ("stream", "stderr"), ("execute_result", None)]


# --- the zygote -------------------------------------------------------------------------------

def test_the_zygote_never_imported_the_repository() -> None:
    zygote = zygote_for(VIEW)
    assert zygote.process is not None
    code = ("import sys\nprint([m for m in sys.modules if m.startswith(('_dlf_sandbox', '__editable__'))])\n"
            "import autograder\nprint(autograder.__file__)\nprint(sys.flags.no_site, sys.flags.ignore_environment)")
    inside = said(sandboxed(code))
    assert str(VIEW) in inside and str(ROOT / "autograder") not in inside
    assert "__editable__" not in inside and "1 1" in inside


def test_an_orphaned_zygote_and_its_sandboxes_die_with_their_worker(tmp_path: Path) -> None:
    """kill -9 of the process that started a zygote ends the zygote and its running sandbox."""
    script = tmp_path / "worker.py"
    script.write_text(
        "import nbformat, sys\n"
        "from pathlib import Path\n"
        "from autograder.sandbox.executor import execute\n"
        f"nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("
        f"\"import subprocess, time\\nsubprocess.Popen(['sleep', '61.2345'])\\ntime.sleep(60)\")])\n"
        f"execute(nb, view=Path({str(VIEW)!r}))\n")
    worker = subprocess.Popen([sys.executable, str(script)], cwd=ROOT)
    try:
        family = _wait_for_descendants(worker.pid, "61.2345", timeout=60.0)
        assert len(family) >= 4, family  # zygote, supervisor, sandbox, sleep
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert _all_gone(family, within=2.0), _alive(family)
    finally:
        if worker.poll() is None:
            worker.kill()


def test_kill_9_of_dlf_grade_leaves_no_worker_zygote_sandbox_or_tracker(tmp_path: Path) -> None:
    assignment = assignments()[0]
    release = nbformat.read(str(assignment.release), as_version=4)
    release.cells.insert(1, nbformat.v4.new_code_cell(
        "import subprocess, time\nsubprocess.Popen(['sleep', '61.2346'])\ntime.sleep(60)"))
    for student in ("ann", "ben", "cat"):
        folder = tmp_path / "ws" / "submitted" / student / assignment.name
        folder.mkdir(parents=True)
        nbformat.write(release, str(folder / f"{assignment.name}.ipynb"))
    dlf = subprocess.Popen([sys.executable, "-m", "autograder.cli", "grade", "--workspace",
                            str(tmp_path / "ws"), "--workers", "2"], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        family = _wait_for_descendants(dlf.pid, "61.2346", timeout=120.0)
        commands = [_cmdline(pid) for pid in family]
        assert any("resource_tracker" in c for c in commands), commands
        assert any("_dlf_sandbox" in c for c in commands), "a zygote was running"
        dlf.send_signal(signal.SIGKILL)
        dlf.wait()
        assert _all_gone(family, within=2.0), [_cmdline(p) for p in _alive(family)]
    finally:
        if dlf.poll() is None:
            dlf.kill()


# --- an unprivileged grader --------------------------------------------------------------------

UNPRIVILEGED = "nobody"


def _blocked(paths: list[Path], uid: int) -> dict[Path, set[str]]:
    """Folders ``uid`` cannot pass through on the way to ``paths``, with the entries it needs."""
    out: dict[Path, set[str]] = {}
    for path in paths:
        for parent, child in zip(reversed(path.parents), [*reversed(path.parents[:-1]), path], strict=True):
            info = parent.stat()
            if info.st_uid != uid and not info.st_mode & 0o001:
                out.setdefault(parent, set()).add(child.name)
    return out


def _as_unprivileged_user(command: list[str], home: Path) -> list[str]:
    """``command`` as nobody, in a private mount namespace where the interpreter is reachable.

    Nothing on the machine changes: a folder nobody cannot pass through (``/root`` holding
    pyenv, mode 700) is covered, in that namespace only, by an empty tmpfs into which the
    entries on the way to the interpreter, the venv and the course are bound back.
    """
    import pwd
    import shlex

    uid = pwd.getpwnam(UNPRIVILEGED).pw_uid
    needed = [Path(sys.base_prefix), Path(sys.prefix), Path(os.path.realpath(sys.executable)), ROOT]
    blocked = _blocked(needed, uid)
    if any(a != b and b in a.parents for a in blocked for b in blocked):
        pytest.skip(f"nested unreachable folders on the way to the interpreter: {sorted(blocked)}")
    script = ["set -e"]
    for n, (folder, entries) in enumerate(sorted(blocked.items())):
        for m, entry in enumerate(sorted(entries)):
            script.append(f"mkdir -p {home}/.hold/{n}-{m} && mount --bind {shlex.quote(str(folder / entry))} "
                          f"{home}/.hold/{n}-{m}")
        script.append(f"mount -t tmpfs -o mode=0755,size=1m tmpfs {shlex.quote(str(folder))}")
        for m, entry in enumerate(sorted(entries)):
            target = shlex.quote(str(folder / entry))
            script.append(f"mkdir {target} && mount --bind {home}/.hold/{n}-{m} {target}")
    script.append(f"exec runuser -u {UNPRIVILEGED} -- env HOME={home} " + shlex.join(command))
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(script)]


def test_an_unprivileged_grader_gets_the_same_sandbox_in_a_user_namespace(
        request: pytest.FixtureRequest) -> None:
    """``dlf grade`` run by an ordinary user: namespaces come with a user namespace."""
    import json
    import pwd
    import shutil

    if os.geteuid() != 0:
        assert "user namespace" in sandboxed("pass").isolation  # this whole suite is unprivileged
        return
    for tool in ("unshare", "runuser"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    probe = subprocess.run(["runuser", "-u", UNPRIVILEGED, "--", "unshare", "-Urmn", "--pid", "--fork",
                            "--mount-proc", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unprivileged user namespaces are not allowed here: {probe.stderr.decode()[:200]}")
    import tempfile

    uid = pwd.getpwnam(UNPRIVILEGED).pw_uid
    home = Path(tempfile.mkdtemp(prefix="dlf-unprivileged-", dir="/tmp"))  # pytest's are root's only
    request.addfinalizer(lambda: shutil.rmtree(home, ignore_errors=True))
    assignment = assignments()[0]
    ws = home / "ws"
    for student, source in (("ann", assignment.source), ("bob", assignment.release)):
        folder = ws / "submitted" / student / assignment.name
        folder.mkdir(parents=True)
        shutil.copy(source, folder / f"{assignment.name}.ipynb")
    for path in [home, *home.rglob("*")]:
        os.chown(path, uid, -1)
    done = subprocess.run(_as_unprivileged_user(
        [sys.executable, "-m", "autograder.cli", "grade", "--workspace", str(ws), "--workers", "1"], home),
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    results = {s: json.loads((ws / "autograded" / s / assignment.name / "result.json").read_text())
               for s in ("ann", "bob")}
    auto = [i for i in results["ann"]["items"] if i["kind"] == "autograded"]
    assert all(i["points"] == i["max_points"] for i in auto), results["ann"]["problems"]
    assert not any(i["points"] for i in results["bob"]["items"])
    isolation = results["ann"]["isolation"]
    for step in ("user namespace", "mount namespace", "no network", "pid namespace", "allow-list root",
                 "read-only", "private /tmp", "fresh /proc", "no capabilities", "process limit"):
        assert step in isolation, (step, isolation, results["ann"]["problems"])
    assert "process cap (cgroup)" not in isolation  # said plainly: the cgroup is root's
    assert not results["ann"]["flags"] and not results["bob"]["flags"]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(pid: int) -> dict[int, str]:
    """pid -> start time of every process below ``pid``."""
    tree, out, todo = _children(), {}, [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            try:
                out[child] = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[19]
            except (OSError, IndexError):
                continue
            todo.append(child)
    return out


def _wait_for_descendants(pid: int, marker: str, timeout: float) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        family = descendants(pid)
        for child in family:
            try:
                if marker.encode() in Path(f"/proc/{child}/cmdline").read_bytes():
                    time.sleep(0.2)
                    return descendants(pid)
            except OSError:
                continue
        time.sleep(0.1)
    raise AssertionError(f"no process with {marker!r} appeared under {pid}")


def _alive(family: dict[int, str]) -> list[int]:
    alive = []
    for pid, started in family.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[19] == started and fields[0] != "Z":
            alive.append(pid)
    return alive


def _all_gone(family: dict[int, str], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not _alive(family):
            return True
        time.sleep(0.05)
    return not _alive(family)


def _stale_cgroup_then_join() -> bytes:
    """In a child: leave a cgroup named after its own pid, as a supervisor killed with its
    worker does, then run the cgroup step; b"1" when it took the process into a fresh group."""
    from autograder.sandbox import kernel

    group = kernel.new_cgroup("pids", os.getpid())
    assert group is not None
    os.mkdir(group)
    ctx = steps.Context(steps.Plan(binds=[], masks=[], tmp_bytes=1 << 20, memory_bytes=1 << 30,
                                   max_processes=8, max_file_bytes=1 << 20, cpu_seconds=10.0))
    took = steps._join_pids_cgroup(ctx)
    with open(os.path.join(os.path.dirname(group), "cgroup.procs"), "w") as fh:
        fh.write(str(os.getpid()))  # leave it, so it can be removed
    with open(f"{group}/pids.max") as fh:
        capped = fh.read().strip() == "10"
    kernel.remove_cgroup(group)
    return b"1" if took and ctx.cgroups.get("pids") == group and capped else b"0"


def _can_make_pids_cgroups() -> bool:
    from autograder.sandbox import kernel

    return os.geteuid() == 0 and kernel.new_cgroup("pids", os.getpid()) is not None


@pytest.mark.skipif(not _can_make_pids_cgroups(), reason="needs root and a writable pids cgroup")
def test_a_cgroup_left_by_a_killed_supervisor_of_the_same_pid_does_not_cost_the_next_its_cap() -> None:
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - reports through the pipe
        try:
            os.write(write, _stale_cgroup_then_join())
        except BaseException as exc:
            os.write(write, repr(exc).encode()[:300])
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    got = os.read(read, 400)
    os.close(read)
    assert got == b"1", got


@pytest.mark.skipif(not _can_make_pids_cgroups(), reason="needs root and a writable pids cgroup")
def test_groups_left_by_supervisors_that_died_are_removed_when_a_zygote_starts() -> None:
    from autograder.sandbox import kernel

    dead = os.fork()
    if dead == 0:  # pragma: no cover
        os._exit(0)
    os.waitpid(dead, 0)
    left = [g for g in {kernel.new_cgroup(c, dead) for c in kernel.CONTROLLERS} if g]
    live = kernel.new_cgroup("pids", os.getpid())  # a supervisor of this pid is still running
    assert live is not None
    for group in [*left, live]:
        os.makedirs(group, exist_ok=True)
    zygote = Zygote(VIEW)
    try:
        zygote.start()
        assert not any(os.path.exists(g) for g in left)
        assert os.path.isdir(live)
    finally:
        zygote.close()
        kernel.remove_cgroup(live)
