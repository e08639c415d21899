"""The fork server: a Python that never saw the answer key forks one sandbox per notebook.

The grader's worker starts it with ``python -S -E -s`` and ``sys.path`` set to the
notebook's view, the standard library and the venv's site-packages, so the editable
install's path hook never runs and the repository is not importable. It imports what
notebooks need (numpy, matplotlib, IPython's shell, the view's check library and
runner), then waits on a unix socket. For each request it forks a supervisor, which
runs the outer steps (namespaces) and forks the sandbox's first process (PID 1 of its
PID namespace), which runs the inner steps and forks the runner; the supervisor waits
and writes ``exit`` on the event stream; the zygote reaps the supervisor and says so.

Protocol on the socket (``SOCK_SEQPACKET``, one JSON object a message):

- zygote → grader: ``{"ready": pid}`` once, or ``{"error": text}``;
- grader → zygote: ``{"run": n_files}`` with descriptors ``[request, hidden_blob,
  events, *files]``: ``request`` and ``hidden_blob`` are memfds, ``events`` the write
  end of a fresh pipe, ``files`` the submission's files opened without following links;
- zygote → grader: ``{"started": pid}``, later ``{"reaped": pid, "status": status}``.

Only the standard library and the view are imported here; this module and ``steps`` are
loaded from the grader's files under a private package name.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import select
import socket
import sys
import traceback
from typing import Any

from . import kernel, steps

# What the sandbox's environment holds: nothing of the grader's (no tokens, no paths).
# NBGRADER_EXECUTION is what nbgrader autograde sets: notebooks may test it to skip slow cells.
SANDBOX_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "DLF_SANDBOX": "1", "NBGRADER_EXECUTION": "autograde"}


def serve(config: dict[str, Any]) -> None:
    """The zygote's main loop; ``config`` comes from the grader on the command line."""
    kernel.die_with_parent()
    if os.getppid() != config["parent"]:
        os._exit(0)
    sock = socket.socket(fileno=config["fd"])
    try:
        _preload(config["preload"])
    except BaseException:
        _reply(sock, {"error": traceback.format_exc()[-3000:]})
        return
    kernel.sweep_cgroups()
    gc.collect()
    gc.freeze()  # the forked sandboxes share these objects' pages instead of copying them
    _reply(sock, {"ready": os.getpid()})
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 1 << 16, 1024)
        except OSError:
            return
        if not message:
            return  # the grader closed its end: nothing more to run
        try:
            request = json.loads(message)
            n_files = int(request["run"])
            if len(fds) != 3 + n_files:
                raise ValueError(f"expected {3 + n_files} descriptors, got {len(fds)}")
        except (ValueError, KeyError, TypeError) as exc:
            for fd in fds:
                os.close(fd)
            _reply(sock, {"error": f"bad request: {exc}"})
            continue
        zygote = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the supervisor reports on the event stream
            _supervise(sock, fds, zygote)
        for fd in fds:
            os.close(fd)
        _reply(sock, {"started": pid})
        _, status = os.waitpid(pid, 0)
        for group in {kernel.new_cgroup(c, pid) for c in kernel.CONTROLLERS}:
            kernel.remove_cgroup(group)
        _reply(sock, {"reaped": pid, "status": status})


def _preload(modules: list[str]) -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    for name in ["numpy", "matplotlib.pyplot", "IPython.core.interactiveshell",
                 "autograder.checks", "autograder.checks.runner"]:
        importlib.import_module(name)
    for name in modules:  # what this notebook's setup cells import, when the view has it
        try:
            importlib.import_module(name)
        except Exception:
            continue
    sys.modules["autograder.checks.runner"].prepare_shell()


def _reply(sock: socket.socket, message: dict[str, Any]) -> None:
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        pass


def _send(fd: int, event: dict[str, Any]) -> None:
    data = memoryview((json.dumps(event) + "\n").encode())
    while data:
        data = data[os.write(fd, data):]


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def _supervise(sock: socket.socket, fds: list[int], zygote: int) -> None:  # pragma: no cover
    """The supervisor: outer steps, then fork the notebook's first process and wait for it."""
    status = 1
    request_fd, blob_fd, events_fd, *file_fds = fds
    try:
        kernel.die_with_parent()
        if os.getppid() != zygote:
            os._exit(1)
        sock.close()
        request = json.loads(_read_all(request_fd))
        blob = _read_all(blob_fd)
        ctx = steps.Context(steps.Plan.from_dict(request["plan"]), file_fds=file_fds)
        outer, outer_failed = steps.run("outer", ctx)
        alive_r, alive_w = os.pipe()
        status_r, status_w = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(alive_w)
            os.close(status_r)
            _init(ctx, outer, outer_failed, request, blob, events_fd, alive_r, status_w)
        os.close(alive_r)
        os.close(status_w)
        for fd in file_fds:
            os.close(fd)
        _, wait_status = os.waitpid(child, 0)
        # The runner's status and what /tmp held at the end, as the sandbox's init saw them.
        reported = os.read(status_r, 64).split()
        oom = kernel.oom_kills(ctx.cgroups.get("memory"))
        if "pid namespace" not in outer:  # no namespace took the notebook's processes with it
            for group in set(ctx.cgroups.values()):
                kernel.remove_cgroup(_leave_cgroup(group))
        _send(events_fd, {"e": "exit", "status": int(reported[0]) if reported else wait_status,
                          "tmp_bytes": int(reported[1]) if len(reported) > 1 else 0,
                          "oom_kills": oom})
        status = 0
    except BaseException:
        try:
            _send(events_fd, {"e": "crash", "error": traceback.format_exc()[-3000:]})
        except OSError:
            pass
    finally:
        os._exit(status)


def _leave_cgroup(group: str) -> str:
    """Move this process back to the parent group, so the group can be emptied and removed."""
    with open(os.path.join(os.path.dirname(group), "cgroup.procs"), "w") as fh:
        fh.write(str(os.getpid()))
    return group


def _init(ctx: steps.Context, outer: list[str], outer_failed: dict[str, str],
          request: dict[str, Any], blob: bytes, events_fd: int, alive: int,
          status_w: int) -> None:  # pragma: no cover - reports on the event stream
    """The sandbox's first process (PID 1): inner steps, then the runner's parent and reaper.

    Student code never runs as PID 1, which the kernel shields from signals it has no
    handler for: the runner is its child, and this process reaps whatever it leaves.
    """
    try:
        kernel.die_with_parent()
        if _parent_gone(alive):
            os._exit(1)
        inner, inner_failed = steps.run("inner", ctx)
        kernel.die_with_parent()  # set again after the credentials changed
        if _parent_gone(alive):
            os._exit(1)
        os.close(alive)
        # Not dumpable: student code (same uid, no capabilities) cannot open /proc/1/fd/*.
        kernel.prctl(kernel.PR_SET_DUMPABLE, 0)
        os.environ.clear()
        os.environ.update(SANDBOX_ENV, HOME=ctx.workdir, MPLCONFIGDIR=ctx.workdir, TMPDIR="/tmp")
        os.chdir(ctx.workdir)
        runner = os.fork()
        if runner == 0:
            os.closerange(3, events_fd)
            os.closerange(events_fd + 1, 1 << 16)
            _run(request, blob, events_fd, outer + inner, outer_failed | inner_failed)
        os.close(events_fd)
        while True:
            pid, wait_status = os.waitpid(-1, 0)
            if pid == runner:
                tmp = os.statvfs("/tmp")
                used = (tmp.f_blocks - tmp.f_bfree) * tmp.f_frsize
                os.write(status_w, f"{wait_status} {used}".encode())
                os._exit(0)
    except BaseException:
        try:
            _send(events_fd, {"e": "crash", "error": traceback.format_exc()[-3000:]})
        finally:
            os._exit(1)


def _run(request: dict[str, Any], blob: bytes, events_fd: int, applied: list[str],
         missing: dict[str, str]) -> None:  # pragma: no cover - reports on the event stream
    """The runner: the notebook's cells, in the process the student's code shares."""
    try:
        kernel.die_with_parent()
        kernel.prctl(kernel.PR_SET_DUMPABLE, 1)
        _send(events_fd, {"e": "isolation", "applied": applied, "missing": missing})
        runner = sys.modules["autograder.checks.runner"]
        runner.run_notebook([(int(i), str(s)) for i, s in request["cells"]], events_fd=events_fd,
                            hidden_blob=blob, cell_timeout=float(request["cell_timeout"]),
                            tail_bytes=int(request["tail_bytes"]))
    except BaseException:
        try:
            _send(events_fd, {"e": "crash", "error": traceback.format_exc()[-3000:]})
        finally:
            os._exit(1)
    os._exit(0)


def _parent_gone(alive: int) -> bool:
    """The supervisor never writes on this pipe: readable means it has closed, it is gone."""
    return bool(select.select([alive], [], [], 0)[0])
