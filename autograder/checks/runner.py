"""Inside the sandbox: run the notebook's cells in order, reporting each on the event stream.

Student side: this module is imported from the notebook's view, in the sandbox, where
the student's code runs in the same process. The grader trusts nothing written here
more than it trusts the student: it assigns records to cells by their position between
``start`` and ``end`` and checks the stream's grammar itself.

One JSON object a line, on the descriptor the sandbox inherited:

- ``{"e": "start", "i": n}`` before the code cell at index ``n`` of the notebook;
- ``{"e": "end", "i": n, "out": tail, "out_bytes": k, "err": tail, "err_bytes": k}`` after
  it: the tails of what it wrote to stdout and to stderr (two outputs, as Jupyter keeps
  them), ``value`` with the ``text/plain`` of the value it displayed (Jupyter's
  ``execute_result``, which nbgrader reads for partial credit), and ``ename`` and
  ``evalue`` when it raised; a cell past the soft time limit is interrupted by SIGALRM
  (the grader kills the whole sandbox at the hard limit);
- ``{"e": "record", ...}``, written by the check library (``autograder.checks.channel``);
- ``{"e": "flag", "what": ..., "where": ..., "line": ...}``, written at once by an audit
  hook when code compiled from a cell does something a grader should know about.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from collections.abc import Callable
from typing import Any

from autograder.checks import channel


class CellTimeout(BaseException):
    """Raised into student code when a cell runs past its time limit."""


_write = os.write
_dumps = json.dumps


def _send(fd: int, event: dict[str, Any]) -> None:
    data = memoryview((_dumps(event) + "\n").encode())
    while data:
        data = data[_write(fd, data):]


_shell: Any = None


def prepare_shell() -> None:
    """Build the IPython shell once in the zygote; each forked sandbox gets a pristine copy."""
    global _shell
    if _shell is None:
        from IPython.core.displayhook import DisplayHook
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        class ValueHook(DisplayHook):
            """Keeps the text of the value a cell displays (Jupyter's execute_result) instead
            of printing ``Out[n]:``, as a kernel sends it apart from the cell's streams."""

            value: str | None = None

            def write_output_prompt(self) -> None:
                pass

            def write_format_data(self, format_dict: dict[str, Any], md_dict: Any = None) -> None:
                text = format_dict.get("text/plain")
                self.value = text if isinstance(text, str) else ""

        config = Config()
        config.HistoryManager.enabled = False
        _shell = InteractiveShell(config=config, displayhook_class=ValueHook)
        _shell.showtraceback = _short_traceback  # IPython's rich tracebacks cost ~0.1 s each


def _short_traceback(*args: Any, **kwargs: Any) -> None:
    import traceback

    etype, value, tb = sys.exc_info()
    if etype is None:
        return
    frames = traceback.extract_tb(tb)[-3:]
    lines = [f"  line {f.lineno}: {(f.line or '').strip()}" for f in frames if f.filename.startswith("<")]
    sys.stderr.write("\n".join([*lines, *traceback.format_exception_only(etype, value)]))


def run_notebook(cells: list[tuple[int, str]], *, events_fd: int, hidden_blob: bytes,
                 cell_timeout: float, tail_bytes: int) -> None:
    """Run ``cells`` (notebook index, source) in order; nothing of the student's runs before."""
    prepare_shell()
    shell = _shell
    output_fd = os.memfd_create("cell-output", os.MFD_CLOEXEC)
    errors_fd = os.memfd_create("cell-errors", os.MFD_CLOEXEC)  # apart: nbgrader scores stderr 0
    os.dup2(output_fd, 1)
    os.dup2(errors_fd, 2)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdout = os.fdopen(1, "w", buffering=1 << 16, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1 << 16, closefd=False)
    sys.path.insert(0, os.getcwd())  # as in Jupyter: modules handed in beside the notebook import
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    def on_alarm(signum: int, frame: Any) -> None:
        raise CellTimeout(f"the cell ran longer than {cell_timeout:g} s and was interrupted")

    signal.signal(signal.SIGALRM, on_alarm)
    channel.connect(events_fd, hidden_blob)
    _install_audit_hook(events_fd, shell.user_ns)
    for index, source in cells:
        shell.execution_count = index + 1  # the cell's code is named <ipython-input-{index+1}-...>
        _send(events_fd, {"e": "start", "i": index})
        start = os.lseek(output_fd, 0, os.SEEK_END)
        err_start = os.lseek(errors_fd, 0, os.SEEK_END)
        shell.displayhook.value = None
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
        event: dict[str, Any] = {"e": "end", "i": index}
        for key, fd, begin in (("out", output_fd, start), ("err", errors_fd, err_start)):
            end = os.lseek(fd, 0, os.SEEK_END)
            tail = os.pread(fd, min(tail_bytes, end - begin), max(begin, end - tail_bytes))
            event[key], event[f"{key}_bytes"] = tail.decode("utf-8", "replace"), end - begin
        value = getattr(shell.displayhook, "value", None)
        if isinstance(value, str) and error is None:
            event["value"] = value[:tail_bytes]
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


# --- the audit hook ------------------------------------------------------------------------

_WATCHED = frozenset({
    "sys._getframe", "sys._current_frames", "sys.settrace", "sys.setprofile", "sys.addaudithook",
    "gc.get_objects", "gc.get_referrers", "gc.get_referents", "object.__getattr__",
    "object.__setattr__", "object.__delattr__", "code.__new__", "function.__new__", "import",
    "open", "compile", "os.kill", "os.killpg", "os.listdir", "os.scandir", "socket.connect",
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.rename",
    "os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.symlink", "os.link",
    "os.truncate", "os.utime", "shutil.rmtree",
})
_FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_code", "gi_code",
                               "cr_code", "ag_code", "__code__"})
_COURSE_PACKAGES = frozenset({"autograder", "reference_impl", "solutions", "tests", "bench"})
_ALLOWED_COURSE_IMPORTS = frozenset({"autograder", "autograder.checks"})
_PROC_SENSITIVE = re.compile(r"^/proc/(self|thread-self|\d+)/(mem|fd/|fdinfo/|environ|root|cwd|map_files)")
_CHANGES = frozenset({"os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown",
                      "os.symlink", "os.link", "os.truncate", "os.utime", "shutil.rmtree"})
_RUNS = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"})
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_TOOLS = ("/inspect.py", "/traceback.py", "/importlib/")  # walked through to their caller
_WRAPPERS = frozenset({"_modified_open"})  # IPython's open() in the shell: its caller decides
_COURSE_FILES = re.compile(r"(\.pth$|/site-packages/|/autograder/|/reference_impl/)")


class _Places:
    """Where the course's code is: the view, and every folder Python imports from."""

    def __init__(self, view: str, trusted: tuple[str, ...]) -> None:
        self.view, self.trusted = view, trusted

    def theirs(self, path: str) -> bool:
        """A path of the student's own: under /tmp or /dev, not in a folder bound there."""
        return (path == "/tmp" or path.startswith(("/tmp/", "/dev/"))) and not (
            path + "/").startswith(self.trusted) and not _COURSE_FILES.search(path)


def _install_audit_hook(fd: int, user_ns: dict[str, Any]) -> None:
    """Report sensitive audit events whose nearest caller is code compiled from a cell.

    Audit hooks cannot be removed; this one is reachable from no module attribute. It
    writes a ``flag`` event at once, so what a cell does next cannot take it back.
    """
    getframe = sys._getframe
    here = os.path.abspath(channel.__file__)  # <view>/autograder/checks/channel.py
    view = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    busy = [False]
    seen: set[tuple[str, str, int]] = set()
    cwd = os.getcwd()
    trusted = tuple(dict.fromkeys(
        os.path.abspath(p).rstrip("/") + "/" for p in [*sys.path, sys.prefix, sys.base_prefix]
        if p and os.path.abspath(p) != cwd))
    places = _Places(view, trusted)

    def student_origin(frame: Any) -> tuple[str, int] | None:
        """The nearest frame of student code, unless library code comes first."""
        depth = 0
        while frame is not None and depth < 64:
            filename = frame.f_code.co_filename
            if filename.startswith("<frozen ") or (filename.startswith(trusted) and (
                    any(t in filename for t in _TOOLS) or frame.f_code.co_name in _WRAPPERS)):
                frame, depth = frame.f_back, depth + 1  # a tool: whoever called it decides
                continue
            if frame.f_globals is user_ns or not filename.startswith(trusted):
                return filename, frame.f_lineno  # a cell, exec'd text, or a file written here
            return None  # numpy, matplotlib, IPython, the standard library, the course's code
        return None

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if busy[0] or not (event in _WATCHED or event.startswith("ctypes.")):
            return
        busy[0] = True
        try:
            what = _describe(event, args, places)
            if what is None:
                return
            origin = student_origin(getframe(1))
            if origin is None:
                return
            key = (what, *origin)
            if key in seen or len(seen) >= 100:
                return
            seen.add(key)
            _send(fd, {"e": "flag", "what": what, "where": origin[0], "line": origin[1]})
        except Exception:
            pass
        finally:
            busy[0] = False

    sys.addaudithook(hook)


def _describe(event: str, args: tuple[Any, ...], places: _Places) -> str | None:
    """What the event means, in words, when a grader should hear of it; else None."""
    describe = _DESCRIBE.get(event)
    if describe is not None:
        return describe(args, places)
    if event.startswith("ctypes."):
        return f"uses ctypes ({event})"
    if event in _CHANGES:
        path = _absolute(args[0]) if args else None
        return None if path is None or places.theirs(path) else f"changes {path} ({event})"
    if event in _RUNS:
        program = args[0] if args else "?"
        return f"starts a program ({os.fsdecode(program) if isinstance(program, bytes | str) else program})"
    return None


def _absolute(path: Any) -> str | None:
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, str):
        return None
    return os.path.normpath(os.path.join(os.getcwd(), path))


def _open(args: tuple[Any, ...], places: _Places) -> str | None:
    target, mode, flags = (*args, None, None, 0)[:3]
    if isinstance(target, int):
        return f"opens descriptor {target} as a file" if target > 2 else None
    path = _absolute(target)
    if path is None:
        return None
    if _PROC_SENSITIVE.match(path):
        return f"opens {path}"
    writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(
        isinstance(flags, int) and flags & _WRITE_FLAGS)
    if writes and not places.theirs(path):
        return f"writes {path}"
    if path.startswith(places.view + "/") and not path.endswith((".pyc", ".npz")):
        return f"reads the course's file {path[len(places.view) + 1:]}"
    return None


def _import(args: tuple[Any, ...], places: _Places) -> str | None:
    name = str(args[0]) if args else ""
    top = name.split(".")[0]
    if (top in _COURSE_PACKAGES and name not in _ALLOWED_COURSE_IMPORTS) or top.startswith(
            "__editable__") or top in ("ctypes", "_ctypes"):
        return f"imports {name}"
    return None


def _getattr(args: tuple[Any, ...], places: _Places) -> str | None:
    name = args[1] if len(args) > 1 else None
    return f"reads {name}" if name in _FRAME_ATTRIBUTES else None


def _setattr(args: tuple[Any, ...], places: _Places) -> str | None:
    target, name = (*args, None, None)[:2]
    if name == "__code__":
        return "replaces a function's __code__"
    if isinstance(target, type) and getattr(target, "__module__", "__main__") != "__main__":
        return f"patches {target.__module__}.{target.__qualname__}.{name}"
    return None


def _listdir(args: tuple[Any, ...], places: _Places) -> str | None:
    path = _absolute(args[0]) if args and args[0] is not None else None
    return "lists the processes in /proc" if path == "/proc" else None


def _compile(args: tuple[Any, ...], places: _Places) -> str | None:
    filename = args[1] if len(args) > 1 else None
    if isinstance(filename, bytes):
        filename = os.fsdecode(filename)
    if isinstance(filename, str) and filename.startswith("<ipython-input-"):
        return "compiles code under a cell's name"
    if isinstance(filename, str) and not filename.startswith("<") and not places.theirs(filename):
        return f"compiles code under the file name {filename}"
    return None


_DESCRIBE: dict[str, Callable[[tuple[Any, ...], _Places], str | None]] = {
    "sys._getframe": lambda a, v: "walks the stack (sys._getframe)",
    "sys._current_frames": lambda a, v: "reads every thread's frames (sys._current_frames)",
    "sys.settrace": lambda a, v: "installs a trace function (sys.settrace)",
    "sys.setprofile": lambda a, v: "installs a profile function (sys.setprofile)",
    "sys.addaudithook": lambda a, v: "installs an audit hook",
    "gc.get_objects": lambda a, v: "scans the garbage collector (gc.get_objects)",
    "gc.get_referrers": lambda a, v: "scans the garbage collector (gc.get_referrers)",
    "gc.get_referents": lambda a, v: "scans the garbage collector (gc.get_referents)",
    "code.__new__": lambda a, v: "builds a code object",
    "function.__new__": lambda a, v: "builds a function from a code object",
    "object.__getattr__": _getattr,
    "object.__setattr__": _setattr,
    "object.__delattr__": _setattr,
    "import": _import,
    "open": _open,
    "compile": _compile,
    "os.kill": lambda a, v: f"sends signal {a[1]} to process {a[0]}" if len(a) > 1 else None,
    "os.killpg": lambda a, v: f"sends signal {a[1]} to process group {a[0]}" if len(a) > 1 else None,
    "os.listdir": _listdir,
    "os.scandir": _listdir,
    "socket.connect": lambda a, v: "opens a network connection",
}
