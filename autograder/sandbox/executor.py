"""Execute a notebook in a forked sandbox and collect each cell's outcome and check records.

The worker process that calls ``execute`` has already imported numpy, matplotlib,
IPython and the check library, so a submission starts in a few milliseconds instead of
the second a fresh Jupyter kernel takes. Every verdict is still decided here, outside
the sandbox, from the records the checks wrote.
"""

from __future__ import annotations

import json
import os
import select
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from autograder.checks.channel import read_records
from autograder.sandbox import isolate
from autograder.sandbox.limits import Limits


@dataclass
class Execution:
    notebook: NotebookNode
    records: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    fatal: str | None = None
    isolation: list[str] = field(default_factory=list)
    seconds: float = 0.0


def warm_up() -> None:
    """Import what notebooks import, once, before any fork."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import IPython.core.interactiveshell  # noqa: F401
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot
    import numpy  # noqa: F401

    import autograder.checks  # noqa: F401  - captured before any student code
    import reference_impl  # noqa: F401
    from autograder.sandbox.runner import prepare_shell

    prepare_shell()


def execute(nb: NotebookNode, *, workdir: Path, limits: Limits | None = None,
            hide: list[Path] | None = None, hidden: bytes = b"") -> Execution:
    """Run the code cells of ``nb`` with ``workdir`` as the current folder."""
    warm_up()
    limits = limits or Limits()
    nb = nbformat.from_dict(nb)
    code = [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    run = Execution(nb)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dlf-scratch-") as scratch:
        channel_path = Path(scratch) / "records.jsonl"
        output_path = Path(scratch) / "output.txt"
        channel_path.touch()
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, reported through the pipe
            os.close(read_fd)
            _child(code, write_fd, channel_path, output_path, workdir, limits,
                   [*(hide or []), Path(scratch)], hidden)
        os.close(write_fd)
        _watch(run, read_fd, pid, channel_path, limits, started)
        os.close(read_fd)
    run.seconds = time.monotonic() - started
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and index in run.errors:
            ename, _, evalue = run.errors[index].partition(": ")
            cell.outputs = [*cell.get("outputs", []),
                            nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])]
    return run


def _child(code: list[tuple[int, str]], events_fd: int, channel_path: Path, output_path: Path,
           workdir: Path, limits: Limits, hide: list[Path], hidden: bytes) -> None:  # pragma: no cover
    status = 1
    try:
        os.setsid()
        channel_fd = os.open(channel_path, os.O_WRONLY | os.O_APPEND)
        output_fd = os.open(output_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        capped = isolate.join_pids_cgroup(limits.max_processes + 2)
        applied = isolate.enter_namespaces() + capped
        runner = os.fork()
        if runner == 0:
            applied += isolate.hide(hide) and ["hidden course folders"]
            os.chdir(workdir)
            os.environ.update(HOME=str(workdir), MPLCONFIGDIR=str(workdir), DLF_SANDBOX="1")
            # Root's process count spans the machine: allow what runs now plus the budget.
            applied += isolate.limit_resources(
                memory_bytes=limits.memory_bytes,
                max_processes=isolate.processes_of_current_user() + limits.max_processes,
                max_file_bytes=limits.max_file_bytes)
            applied += isolate.drop_capabilities()
            from autograder.checks import channel

            channel.connect(channel_fd, hidden)
            _send(events_fd, {"e": "isolation", "applied": applied})
            from autograder.sandbox.runner import run_cells

            try:
                run_cells(code, events_fd=events_fd, output_fd=output_fd,
                          cell_timeout=limits.cell_timeout, tail_bytes=limits.output_tail_bytes)
            except BaseException:
                import traceback

                _send(events_fd, {"e": "crash", "error": traceback.format_exc()[-3000:]})
                os._exit(1)
            os._exit(0)
        _send(events_fd, {"e": "runner", "pid": runner})
        _, wait_status = os.waitpid(runner, 0)
        _send(events_fd, {"e": "exit", "status": wait_status})
        status = 0
    finally:
        os._exit(status)


def _send(fd: int, event: dict[str, Any]) -> None:
    os.write(fd, (json.dumps(event) + "\n").encode())


def _watch(run: Execution, fd: int, pid: int, channel: Path, limits: Limits,
           started: float) -> None:
    buffer = b""
    runner: int | None = None
    current: int | None = None
    cell_started = started
    exit_status: int | None = None
    killed_for: str | None = None
    executed = 0
    while True:
        now = time.monotonic()
        deadline = min(started + limits.notebook_timeout,
                       cell_started + limits.cell_timeout + 2.0 if current is not None else float("inf"))
        if now >= deadline and killed_for is None:
            if current is not None and now >= cell_started + limits.cell_timeout + 2.0:
                killed_for = f"the cell ran longer than {limits.cell_timeout:g} s and was stopped"
            else:
                killed_for = (f"the notebook ran longer than {limits.notebook_timeout:g} s "
                              "and was stopped")
            _kill(runner, pid)
            deadline = now + 5.0
        ready, _, _ = select.select([fd], [], [], max(0.0, min(deadline - now, 1.0)))
        if not ready:
            if killed_for is not None and time.monotonic() > deadline:
                break
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            try:
                event = json.loads(line)
                kind = event["e"]
            except (ValueError, KeyError, TypeError):
                continue
            if kind == "runner" and runner is None:
                runner = int(event["pid"])
            elif kind == "isolation":
                run.isolation = [str(x) for x in event.get("applied", [])]
            elif kind == "start":
                current, cell_started = int(event["i"]), time.monotonic()
            elif kind == "end" and current is not None:
                executed += 1
                run.notebook.cells[current].execution_count = executed
                if "ename" in event:
                    run.errors[current] = f"{event['ename']}: {event.get('evalue', '')}"
                _set_output(run.notebook.cells[current], str(event.get("out", "")))
                current = None
            elif kind == "crash":
                run.fatal = "the grader's runner failed: " + str(event.get("error", ""))
            elif kind == "exit":
                exit_status = int(event["status"])
    _kill(runner, pid)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    isolate.remove_cgroup(isolate.pids_cgroup(pid))
    records, _ = read_records(str(channel))
    for record in records:
        run.records.setdefault(record["cell"], []).append(record)
    if current is not None:  # the runner died inside this cell
        reason = killed_for or _death(exit_status)
        run.errors[current] = f"SandboxError: {reason}"
        run.fatal = reason
    elif killed_for:
        run.fatal = killed_for
    elif exit_status not in (None, 0) and run.fatal is None:
        run.fatal = _death(exit_status)


def _set_output(cell: NotebookNode, text: str) -> None:
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)] if text else []


def _death(status: int | None) -> str:
    if status is None:
        return "the notebook's process ended unexpectedly"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals.__members__.values() else str(sig)
        if sig == signal.SIGSEGV:
            return f"the notebook's process crashed ({name}, a segmentation fault)"
        if sig == signal.SIGKILL:
            return "the notebook's process was killed (out of memory, or a limit was reached)"
        return f"the notebook's process was ended by signal {name}"
    return f"the notebook's process exited with status {os.WEXITSTATUS(status)}"


def _kill(runner: int | None, pid: int) -> None:
    for target in (runner, pid):
        if target:
            try:
                os.kill(target, signal.SIGKILL)
            except ProcessLookupError:
                pass
