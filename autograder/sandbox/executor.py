"""Execute a notebook in a sandbox forked from a zygote, and read back its event stream.

Grader side. The worker process that calls ``execute`` holds the answer key; the
sandbox never descends from it. It is forked from a zygote (``zygote.py``), a Python
started without site processing whose ``sys.path`` is the notebook's view, the
standard library and the venv's site-packages. One zygote serves a worker for one
view, is started on first use and lives as long as the worker (it dies with it).
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import select
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import nbformat
from nbformat import NotebookNode

from autograder.sandbox import steps
from autograder.sandbox.files import SubmissionFiles
from autograder.sandbox.limits import Limits
from autograder.sandbox.stream import CellRun, EventStream, Flag

SANDBOX_DIR = Path(__file__).resolve().parent
COURSE_PACKAGES = ("autograder", "reference_impl", "tests", "bench", "solutions")
MAX_ZYGOTES = 3  # per worker: each holds numpy, matplotlib and IPython (~100 MB)
START_TIMEOUT = 120.0

BOOTSTRAP = """\
import json, sys, types
config = json.loads(sys.argv[1])
sys.path[:] = config["sys_path"]
package = types.ModuleType("_dlf_sandbox")
package.__path__ = [config["sandbox_dir"]]
sys.modules["_dlf_sandbox"] = package
from _dlf_sandbox import zygote
zygote.serve(config)
"""


class SandboxError(RuntimeError):
    """The sandbox machinery itself failed (not the notebook)."""


@dataclass
class Execution:
    notebook: NotebookNode
    cells: dict[int, CellRun] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    fatal: str | None = None
    isolation: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    flooded: bool = False
    tmp_bytes: int = 0
    oom_kills: int = 0  # processes the sandbox's memory cap stopped
    seconds: float = 0.0

    @property
    def tampered(self) -> bool:
        return bool(self.violations)


def site_dirs() -> list[str]:
    paths = sysconfig.get_paths()
    return list(dict.fromkeys(paths[k] for k in ("purelib", "platlib")))


class Zygote:
    """One fork server for one view, started from (and dying with) the calling process."""

    def __init__(self, view: Path, *, preload: tuple[str, ...] = (),
                 sites: list[str] | None = None) -> None:
        self.view = view
        self.preload = preload
        self.sites = sites if sites is not None else site_dirs()
        self.process: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.stderr: IO[bytes] | None = None

    def sys_path(self) -> list[str]:
        stdlib = sysconfig.get_paths()["stdlib"]
        zipped = os.path.join(sys.base_prefix, "lib",
                              f"python{sys.version_info.major}{sys.version_info.minor}.zip")
        return [str(self.view), zipped, stdlib, os.path.join(stdlib, "lib-dynload"), *self.sites]

    def binds(self) -> list[str]:
        """Host folders the sandbox shows read-only, at the same paths."""
        wanted = [sys.base_prefix, sys.prefix, str(self.view), *self.sites]
        real_python = os.path.realpath(sys.executable)
        if not any(real_python.startswith(p.rstrip("/") + "/") for p in wanted):
            wanted.append(os.path.dirname(os.path.dirname(real_python)))
        return list(dict.fromkeys(os.path.abspath(p) for p in wanted if os.path.isdir(p)))

    def masks(self) -> list[str]:
        """Course packages installed into site-packages (a non-editable install): hidden."""
        return [os.path.join(site, name) for site in self.sites for name in COURSE_PACKAGES]

    def start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {"sys_path": self.sys_path(), "sandbox_dir": str(SANDBOX_DIR),
                  "preload": list(self.preload), "fd": theirs.fileno(), "parent": os.getpid()}
        env = {k: v for k, v in os.environ.items()
               if k in ("PATH", "HOME", "LANG", "LC_ALL", "MPLCONFIGDIR", "XDG_CACHE_HOME",
                        "XDG_CONFIG_HOME", "TMPDIR")}
        env.update(MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1")
        self.stderr = tempfile.TemporaryFile()  # read only when the zygote fails to start
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-S", "-E", "-s", "-c", BOOTSTRAP, json.dumps(config)],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=self.stderr, env=env, cwd="/")
        finally:
            theirs.close()
        self.sock = ours
        reply = self._receive(START_TIMEOUT)
        if "ready" not in reply:
            self.close()
            raise SandboxError(f"the sandbox's zygote did not start: {reply.get('error', reply)}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None and self.sock is not None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.process = None
        if self.stderr is not None:
            self.stderr.close()
            self.stderr = None

    def _receive(self, timeout: float) -> dict[str, Any]:
        assert self.sock is not None
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return {"error": f"no answer in {timeout:g} s"}
        data = self.sock.recv(1 << 16)
        if not data:
            stderr = b""
            if self.process is not None and self.stderr is not None:
                self.process.kill()
                self.process.wait()
                self.stderr.seek(0)
                stderr = self.stderr.read()[-3000:]
            return {"error": "the zygote ended" + (f": {stderr.decode(errors='replace')}" if stderr else "")}
        message: dict[str, Any] = json.loads(data)
        return message

    def launch(self, request: dict[str, Any], blob: bytes, events_w: int,
               files: list[int]) -> int:
        """Fork one sandbox; returns its supervisor's pid."""
        assert self.sock is not None
        body = _memfd("dlf-request", json.dumps(request).encode())
        hidden = _memfd("dlf-hidden", blob)
        try:
            socket.send_fds(self.sock, [json.dumps({"run": len(files)}).encode()],
                            [body, hidden, events_w, *files])
        finally:
            os.close(body)
            os.close(hidden)
        reply = self._receive(30.0)
        if "started" not in reply:
            raise SandboxError(f"the zygote did not start the sandbox: {reply.get('error', reply)}")
        return int(reply["started"])

    def reaped(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self._receive(max(0.0, deadline - time.monotonic()))
            if reply.get("reaped") == pid:
                return True
            if "error" in reply:
                return False
        return False


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    return fd


_zygotes: collections.OrderedDict[tuple[str, tuple[str, ...]], Zygote] = collections.OrderedDict()


def zygote_for(view: Path, preload: tuple[str, ...] = ()) -> Zygote:
    """This process's zygote for ``view``, started on first use (a few per process at most)."""
    key = (str(view), preload)
    zygote = _zygotes.get(key)
    if zygote is not None and zygote.alive():
        _zygotes.move_to_end(key)
        return zygote
    if zygote is not None:
        zygote.close()
        del _zygotes[key]
    while len(_zygotes) >= MAX_ZYGOTES:
        _, oldest = _zygotes.popitem(last=False)
        oldest.close()
    zygote = Zygote(view, preload=preload)
    zygote.start()
    _zygotes[key] = zygote
    return zygote


@atexit.register
def close_zygotes() -> None:
    while _zygotes:
        _zygotes.popitem()[1].close()


def execute(nb: NotebookNode, *, view: Path, limits: Limits | None = None,
            files: SubmissionFiles | None = None, hidden_blob: bytes = b"",
            keep: dict[int, int] | None = None, preload: tuple[str, ...] = (),
            skip: tuple[str, ...] = (), zygote: Zygote | None = None) -> Execution:
    """Run the code cells of ``nb`` in a sandbox whose only course code is ``view``.

    ``keep`` maps the index of each test cell to the number of records its checks write;
    ``skip`` names sandbox steps to leave out (for tests that show what each one holds).
    """
    limits = limits or Limits()
    nb = nbformat.from_dict(nb)
    code = [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    run = Execution(nb)
    started = time.monotonic()
    stream = EventStream([i for i, _ in code], keep or {}, limits.channel_bytes)
    events_r, events_w = os.pipe()
    try:
        try:
            owner = zygote or zygote_for(view, preload)
            pid = _launch(owner, code, limits, files, hidden_blob, skip, events_w, view, preload,
                          retry=zygote is None)
        finally:
            os.close(events_w)
            if files is not None:
                files.close()
        killed_for = _watch(stream, events_r, pid, limits, started)
        if not owner.reaped(pid, 10.0):
            owner.close()  # a zygote that lost track of its sandbox is not used again
    except SandboxError as exc:
        run.fatal = f"the sandbox could not run the notebook: {exc}"
        return run
    finally:
        os.close(events_r)
    run.seconds = time.monotonic() - started
    _collect(run, stream, killed_for, limits)
    return run


def _launch(owner: Zygote, code: list[tuple[int, str]], limits: Limits,
            files: SubmissionFiles | None, blob: bytes, skip: tuple[str, ...], events_w: int,
            view: Path, preload: tuple[str, ...], *, retry: bool) -> int:
    plan = steps.Plan(binds=owner.binds(), masks=owner.masks(), tmp_bytes=limits.tmp_bytes,
                      memory_bytes=limits.memory_bytes, max_processes=limits.max_processes,
                      max_file_bytes=limits.max_file_bytes,
                      cpu_seconds=limits.cpu_seconds or limits.notebook_timeout + 1.0,
                      skip=list(skip), file_names=[n for n, _ in files.files] if files else [],
                      max_files_bytes=limits.max_files_bytes,
                      n_course_files=files.n_course if files else 0)
    request = {"plan": plan.__dict__, "cells": code, "cell_timeout": limits.cell_timeout,
               "tail_bytes": limits.output_tail_bytes}
    fds = [fd for _, fd in files.files] if files else []
    try:
        return owner.launch(request, blob, events_w, fds)
    except (SandboxError, OSError):
        if not retry:
            raise
        owner.close()  # the zygote died (its worker's memory ran out, say): start it again
        return zygote_for(view, preload).launch(request, blob, events_w, fds)


def _watch(stream: EventStream, fd: int, pid: int, limits: Limits, started: float) -> str | None:
    """Read the stream until it ends, killing the sandbox at a time limit or a flood."""
    killed_for: str | None = None
    current: int | None = None
    cell_started = started
    give_up = float("inf")
    while True:
        now = time.monotonic()
        if stream.current != current:
            current, cell_started = stream.current, now
        if killed_for is None:
            if stream.flooded:
                killed_for = (f"the notebook flooded its result channel (more than "
                              f"{limits.channel_bytes // 1024**2} MB) and was stopped")
            elif current is not None and now >= cell_started + limits.cell_timeout + 2.0:
                killed_for = f"the cell ran longer than {limits.cell_timeout:g} s and was stopped"
            elif now >= started + limits.notebook_timeout:
                killed_for = f"the notebook ran longer than {limits.notebook_timeout:g} s and was stopped"
            if killed_for is not None:
                _kill(pid)
                give_up = now + 5.0
        if now >= give_up:
            break  # stray writers outlived the sandbox (only without a pid namespace)
        deadline = min(give_up, started + limits.notebook_timeout,
                       cell_started + limits.cell_timeout + 2.0 if current is not None else give_up)
        ready, _, _ = select.select([fd], [], [], max(0.0, min(deadline - now, 1.0)))
        if not ready:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        stream.feed(chunk)
    if killed_for is None or not stream.flooded:
        stream.finish()
    return killed_for


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)  # the supervisor: its death takes the sandbox with it
    except ProcessLookupError:
        pass


def _collect(run: Execution, stream: EventStream, killed_for: str | None, limits: Limits) -> None:
    run.cells, run.isolation, run.missing = stream.cells, stream.isolation, stream.missing
    run.violations = list(stream.violations)
    if stream.n_violations > len(stream.violations):
        run.violations.append(f"… and {stream.n_violations - len(stream.violations)} more")
    run.flags, run.flooded, run.tmp_bytes = stream.flags, stream.flooded, stream.tmp_bytes
    run.oom_kills = stream.oom_kills
    executed = 0
    for index, cell_run in sorted(stream.cells.items()):
        cell = run.notebook.cells[index]
        executed += 1
        cell.execution_count = executed
        outputs = [nbformat.v4.new_output("stream", name=name, text=text)
                   for name, text in (("stdout", cell_run.output), ("stderr", cell_run.stderr)) if text]
        if cell_run.value is not None:
            outputs.append(nbformat.v4.new_output("execute_result", data={"text/plain": cell_run.value},
                                                  execution_count=executed))
        if cell_run.error:
            run.errors[index] = cell_run.error
            ename, _, evalue = cell_run.error.partition(": ")
            outputs.append(nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[]))
        cell.outputs = outputs
    died_in = stream.current
    if stream.crash:
        run.fatal = "the sandbox failed: " + stream.crash.strip().splitlines()[-1][:500]
    if died_in is not None:  # the notebook's process ended inside this cell
        reason = killed_for or _death(stream.exit_status, run.oom_kills, limits)
        run.errors[died_in] = f"SandboxError: {reason}"
        run.notebook.cells[died_in].outputs.append(
            nbformat.v4.new_output("error", ename="SandboxError", evalue=reason, traceback=[]))
        run.fatal = run.fatal or reason
    elif killed_for:
        run.fatal = killed_for
    elif stream.exit_status is None and run.fatal is None:
        run.fatal = "the notebook's sandbox ended without reporting"
    elif stream.exit_status not in (None, 0) and run.fatal is None:
        run.fatal = _death(stream.exit_status, run.oom_kills, limits)


def memory_cap_text(limits: Limits) -> str:
    cap = steps.memory_cap(limits.memory_bytes, limits.tmp_bytes) / 1024**2
    return f"its processes and /tmp together may hold {cap:.0f} MB"


def _death(status: int | None, oom_kills: int, limits: Limits) -> str:
    if status is None:
        return "the notebook's process ended unexpectedly"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals.__members__.values() else str(sig)
        if sig == signal.SIGSEGV:
            return f"the notebook's process crashed ({name}, a segmentation fault)"
        if sig == signal.SIGKILL and oom_kills:
            return f"the notebook ran out of memory and was stopped: {memory_cap_text(limits)}"
        if sig == signal.SIGKILL:
            return "the notebook's process was killed (out of memory, or a limit was reached)"
        if sig == signal.SIGXCPU:
            return "the notebook's process used up its CPU time and was stopped"
        return f"the notebook's process was ended by signal {name}"
    return f"the notebook's process exited with status {os.WEXITSTATUS(status)}"
