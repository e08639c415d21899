"""Inside the sandbox: run cells one by one in an IPython shell, reporting over a pipe.

Each cell sends ``start`` then ``end`` (status, error, the tail of its output). A cell
that runs past the soft time limit is interrupted by SIGALRM and the next cell runs;
the executor outside enforces a hard limit by killing the whole sandbox.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any


class CellTimeout(BaseException):
    """Raised into student code when a cell runs past its time limit."""


def _send(fd: int, event: dict[str, Any]) -> None:
    data = (json.dumps(event) + "\n").encode()
    while data:
        data = data[os.write(fd, data):]


_shell: Any = None


def prepare_shell() -> None:
    """Build the IPython shell once in the warm worker; each forked runner gets a pristine copy."""
    global _shell
    if _shell is None:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False
        _shell = InteractiveShell(config=config)
        _shell.showtraceback = _short_traceback  # IPython's rich tracebacks cost ~0.1 s each


def _short_traceback(*args: Any, **kwargs: Any) -> None:
    import traceback

    etype, value, tb = sys.exc_info()
    if etype is None:
        return
    frames = traceback.extract_tb(tb)[-3:]
    lines = [f"  line {f.lineno}: {(f.line or '').strip()}" for f in frames if f.filename.startswith("<")]
    sys.stderr.write("\n".join([*lines, *traceback.format_exception_only(etype, value)]))


def run_cells(sources: list[tuple[int, str]], *, events_fd: int, output_fd: int,
              cell_timeout: float, tail_bytes: int) -> None:
    prepare_shell()
    shell = _shell
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.stdout = os.fdopen(1, "w", buffering=1 << 16, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1 << 16, closefd=False)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    def on_alarm(signum: int, frame: Any) -> None:
        raise CellTimeout(f"the cell ran longer than {cell_timeout:g} s and was interrupted")

    signal.signal(signal.SIGALRM, on_alarm)
    from autograder.checks import channel

    for index, source in sources:
        channel.cell = index
        _send(events_fd, {"e": "start", "i": index})
        start = os.lseek(output_fd, 0, os.SEEK_END)
        signal.setitimer(signal.ITIMER_REAL, cell_timeout)
        try:
            result = shell.run_cell(source, store_history=False)
        except BaseException as exc:  # a timeout landing outside user code
            result = None
            error: tuple[str, str] | None = (type(exc).__name__, str(exc))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if result is not None:
            failure = result.error_before_exec or result.error_in_exec
            error = (type(failure).__name__, str(failure)[:2000]) if failure is not None else None
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        _close_figures()
        end = os.lseek(output_fd, 0, os.SEEK_END)
        tail = os.pread(output_fd, min(tail_bytes, end - start), max(start, end - tail_bytes))
        event: dict[str, Any] = {"e": "end", "i": index, "out": tail.decode("utf-8", "replace"),
                                 "out_bytes": end - start}
        if error:
            event["ename"], event["evalue"] = error
        _send(events_fd, event)


def _close_figures() -> None:
    mpl = sys.modules.get("matplotlib.pyplot")
    if mpl is not None:
        try:
            mpl.close("all")
        except Exception:
            pass
