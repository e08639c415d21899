"""Flags for the instructor: what in a submission's own code looks like reaching for the key.

Grader side. A static look at every code cell the student wrote or changed (the cells
that are not the instructor's, unchanged): walking frames, scanning ``gc``, trace hooks,
``ctypes``, reading a function's ``__globals__``, ``__closure__`` or ``__code__``,
importing the course's packages beyond ``from autograder.checks import check``,
rewriting ``sys.modules`` or ``builtins``, writing to raw file descriptors, redefining
``check``. Each flag names the cell and the line. Flags do not change a score by
themselves; the runtime audit hook in the sandbox reports what such code actually did.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from nbformat import NotebookNode

from autograder.nb.course import is_answer, is_test, nbgrader_meta

FRAME_ATTRIBUTES = {
    "f_back": "walks stack frames", "f_locals": "reads a frame's locals",
    "f_globals": "reads a frame's globals", "f_code": "reads a frame's code",
    "tb_frame": "reaches a frame through a traceback", "gi_frame": "reaches a generator's frame",
    "cr_frame": "reaches a coroutine's frame", "_getframe": "walks stack frames (sys._getframe)",
    "_current_frames": "reads every thread's frames",
    "__globals__": "reads a function's __globals__", "__closure__": "reads a function's __closure__",
    "__code__": "reads a function's __code__", "__subclasses__": "lists classes via __subclasses__",
    "__builtins__": "reaches __builtins__",
}
CALLS = {
    ("gc", "get_objects"): "scans the garbage collector (gc.get_objects)",
    ("gc", "get_referrers"): "scans the garbage collector (gc.get_referrers)",
    ("gc", "get_referents"): "scans the garbage collector (gc.get_referents)",
    ("sys", "settrace"): "installs a trace function (sys.settrace)",
    ("sys", "setprofile"): "installs a profile function (sys.setprofile)",
    ("threading", "settrace"): "installs a trace function (threading.settrace)",
    ("threading", "setprofile"): "installs a profile function (threading.setprofile)",
    ("sys", "addaudithook"): "installs an audit hook",
    ("os", "write"): "writes to a raw file descriptor (os.write)",
    ("os", "dup2"): "redirects a raw file descriptor (os.dup2)",
    ("os", "dup"): "copies a raw file descriptor (os.dup)",
    ("os", "close"): "closes a raw file descriptor (os.close)",
    ("os", "closerange"): "closes raw file descriptors (os.closerange)",
    ("os", "fdopen"): "opens a raw file descriptor as a file (os.fdopen)",
    ("os", "pwrite"): "writes to a raw file descriptor (os.pwrite)",
    ("os", "writev"): "writes to a raw file descriptor (os.writev)",
}
BUILTIN_CALLS = {"exec": "runs code built from text (exec)", "eval": "runs code built from text (eval)",
                 "compile": "compiles code from text", "__import__": "imports by name (__import__)"}
SUSPICIOUS_IMPORTS = {"inspect": "imports inspect", "ctypes": "imports ctypes",
                      "importlib": "imports importlib", "builtins": "imports builtins"}
COURSE_PACKAGES = ("autograder", "reference_impl", "solutions", "tests", "bench")
_MAGIC = re.compile(r"^(\s*)[%!]")


def instructor_cells(notebook: NotebookNode, source: NotebookNode) -> set[int]:
    """Indices of ``notebook``'s cells that are the instructor's, unchanged: tests and locked cells."""
    locked = {c.source for c in source.cells
              if c.cell_type == "code" and not is_answer(c) and nbgrader_meta(c).get("locked")}
    return {i for i, c in enumerate(notebook.cells)
            if c.cell_type == "code" and (is_test(c) or (not is_answer(c) and c.source in locked))}


def static_flags(notebook: NotebookNode, source: NotebookNode) -> list[str]:
    """One flag per suspicious construct in the cells the student wrote or changed."""
    skip = instructor_cells(notebook, source)
    out: list[str] = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or index in skip:
            continue
        tree = _parse(cell.source)
        if tree is None:
            continue
        for line, what in sorted(_findings(tree)):
            flag = f"cell {index + 1}, line {line}: {what}"
            if flag not in out:
                out.append(flag)
    return out


def _parse(text: str) -> ast.Module | None:
    lines = [_MAGIC.sub(r"\1pass  # ", ln) for ln in text.splitlines()]  # IPython magics
    try:
        return ast.parse("\n".join(lines))
    except (SyntaxError, ValueError):
        return None


def _findings(tree: ast.Module) -> Iterator[tuple[int, str]]:
    modules = _module_aliases(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in FRAME_ATTRIBUTES:
            yield node.lineno, FRAME_ATTRIBUTES[node.attr]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in FRAME_ATTRIBUTES:
            yield node.lineno, f"names {node.value!r} in a string (getattr?)"
        elif isinstance(node, ast.Import | ast.ImportFrom):
            yield from _imports(node)
        elif isinstance(node, ast.Call):
            yield from _call(node, modules)
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            for target in targets:
                yield from _assignment(target, modules)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == "check":
            yield node.lineno, "redefines check"


def _module_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> module for every ``import m as n`` / ``from m import sub`` in the cell."""
    names = {"sys": "sys", "os": "os", "gc": "gc", "builtins": "builtins", "threading": "threading",
             "np": "numpy", "numpy": "numpy", "plt": "matplotlib.pyplot"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname \
                    else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _imports(node: ast.Import | ast.ImportFrom) -> Iterator[tuple[int, str]]:
    if isinstance(node, ast.ImportFrom):
        module = node.module or ""
        names = [a.name for a in node.names]
        if module == "autograder.checks" and names == ["check"]:
            return
        full = [module] + [f"{module}.{n}" for n in names]
    else:
        full = [a.name for a in node.names]
    for name in full:
        top = name.split(".")[0]
        if top in COURSE_PACKAGES or top.startswith("__editable__"):
            yield node.lineno, f"imports {name} (the course's own code)"
            return
        if top in SUSPICIOUS_IMPORTS:
            yield node.lineno, SUSPICIOUS_IMPORTS[top]
            return


def _dotted(node: ast.expr, modules: dict[str, str]) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        head = modules.get(node.id, node.id)
        return ".".join([head, *reversed(parts)])
    return None


def _call(node: ast.Call, modules: dict[str, str]) -> Iterator[tuple[int, str]]:
    name = _dotted(node.func, modules)
    if name is None:
        return
    if name in BUILTIN_CALLS:
        yield node.lineno, BUILTIN_CALLS[name]
    module, _, attr = name.rpartition(".")
    if (module.split(".")[-1], attr) in CALLS:
        yield node.lineno, CALLS[(module.split(".")[-1], attr)]
    if name in ("setattr", "delattr") and node.args:
        target = _dotted(node.args[0], modules)
        if target and target.split(".")[0] in (*COURSE_PACKAGES, "builtins", "sys", "numpy"):
            yield node.lineno, f"patches {target} ({name})"
    if module.endswith("sys.modules") and attr in ("update", "pop", "__setitem__", "setdefault",
                                                   "clear", "popitem", "__delitem__"):
        yield node.lineno, f"rewrites sys.modules ({attr})"


def _assignment(target: ast.expr, modules: dict[str, str]) -> Iterator[tuple[int, str]]:
    if isinstance(target, ast.Name) and target.id == "check":
        yield target.lineno, "redefines check"
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _assignment(element, modules)
    elif isinstance(target, ast.Subscript):
        base = _dotted(target.value, modules)
        if base == "sys.modules":
            yield target.lineno, "rewrites sys.modules"
        elif base in ("__builtins__", "builtins.__dict__"):
            yield target.lineno, "patches builtins"
    elif isinstance(target, ast.Attribute):
        base = _dotted(target.value, modules)
        if base is None or not isinstance(target.value, ast.Name | ast.Attribute):
            return
        head = base.split(".")[0]
        is_module = isinstance(target.value, ast.Name) and target.value.id in modules
        if head == "builtins" or base == "__builtins__":
            yield target.lineno, f"patches builtins ({target.attr})"
        elif is_module or head in COURSE_PACKAGES:
            yield target.lineno, f"patches {base}.{target.attr}"
