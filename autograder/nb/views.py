"""The student build of each notebook: the only course code its student code can import.

A *view* is a folder holding, for one notebook NN:

- the student's side of checking: ``autograder/checks`` (with ``notebooks/common.py`` and
  ``notebooks/nbNN.py`` only) and ``autograder/exercises/nbNN.json``, its visible data;
- the modules of ``reference_impl`` that NN's locked cells and its student-side probes
  import, followed through their module-level imports (a module's imports inside a
  function are optional there: ``Linear`` imports the initializers only for an
  initializer given by name);

and never a module in NN's ``FORBIDDEN`` list (what implements NN's exercises): building
a view that would need one fails and names the chain of imports. The sandbox that grades
NN mounts NN's view and nothing else of the course; ``./run lab`` and ``dlf check`` give a
notebook's kernel the same view, and a wheel of it is what a student installs.
"""

from __future__ import annotations

import ast
import atexit
import hashlib
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from autograder.nb.course import ROOT, Assignment, assignments, is_answer, is_test, read

BUILDER_VERSION = "1"
STUDENT_PACKAGES = ("autograder", "reference_impl")
# What of ``autograder`` may be in a view: the student's side of checking, nothing else.
STUDENT_SIDE = ("autograder", "autograder.checks", "autograder.exercises")
# Files of the student's side that every view has: the check library without the
# per-notebook modules, which are added one notebook at a time.
CHECKS = "autograder/checks"


class ViewError(ValueError):
    """A notebook would need, in its sandbox, a module that implements its own exercises."""


@dataclass(frozen=True)
class View:
    notebook: str
    path: Path
    modules: tuple[str, ...]
    forbidden: tuple[str, ...]


def _module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    if (base / "__init__.py").exists():
        return base / "__init__.py"
    if base.with_suffix(".py").exists():
        return base.with_suffix(".py")
    return None


def _lazy_exports(module: str) -> dict[str, str]:
    """A lazy package's map of names to submodules (``reference_impl._lazy``)."""
    try:
        package = importlib.import_module(module)
    except ImportError:
        return {}
    exports = getattr(package, "_EXPORTS", {})
    return {name: f"{module}.{sub}" for name, sub in exports.items()}


def _imports(tree: ast.AST, *, everywhere: bool) -> list[tuple[str, tuple[str, ...]]]:
    """(module, names) of the course's imports; module level only unless ``everywhere``."""
    nodes = _everywhere(tree) if everywhere else _top_level(tree)
    out: list[tuple[str, tuple[str, ...]]] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            out += [(alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, tuple(a.name for a in node.names)))
    return [(m, n) for m, n in out if m.split(".")[0] in STUDENT_PACKAGES]


def _top_level(tree: ast.AST) -> Iterable[ast.AST]:
    """Statements run at import: the module body, into if/try blocks, never into functions,
    classes or ``if TYPE_CHECKING:``."""
    stack = list(getattr(tree, "body", []))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If):
            test = node.test
            if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
                continue
            stack += node.body + node.orelse
        elif isinstance(node, ast.Try):
            stack += node.body + node.orelse + node.finalbody
            for handler in node.handlers:
                stack += handler.body


def _everywhere(tree: ast.AST) -> Iterable[ast.AST]:
    """Every statement, functions and classes included, but not ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) \
                and node.test.id == "TYPE_CHECKING":
            stack += node.orelse
            continue
        stack += list(ast.iter_child_nodes(node))


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _resolve(root: Path, module: str, names: tuple[str, ...]) -> list[str]:
    """The modules an import statement needs: the module, its packages, and for a name of
    a lazy package the submodule defining it (or a submodule of that name)."""
    out = [module, *_parents(module)]
    exports = _lazy_exports(module) if names else {}
    for name in names:
        if name in exports:
            out.append(exports[name])
        elif _module_file(root, f"{module}.{name}") is not None:
            out.append(f"{module}.{name}")
    return out


def locked_cell_sources(assignment: Assignment) -> list[str]:
    """The code the notebook runs besides answers and tests: setup, demos, plots."""
    nb = read(assignment.source)
    return [c.source for c in nb.cells
            if c.cell_type == "code" and not is_answer(c) and not is_test(c)]


def _parse(source: str) -> ast.AST:
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    return ast.parse("\n".join(lines))


def _grader_side(module: str) -> bool:
    return module.startswith("autograder") and not (
        module in STUDENT_SIDE or module.startswith(("autograder.checks.", "autograder.exercises.")))


def needed_modules(assignment: Assignment | None, root: Path = ROOT) -> dict[str, str]:
    """Every course module notebook ``assignment``'s view must hold, with why (the importer).

    Imports are followed everywhere, functions included, since a demo may call a helper
    that imports inside a function; but a module that implements the notebook's own
    exercises is left out when it is only imported inside a function (that code path is
    not meant to run in this notebook), and is an error when imported at module level.
    With no assignment, the bare check library: what a notebook of no course runs with.
    """
    number = assignment.number if assignment else None
    banned = forbidden(assignment) if assignment else ()
    why: dict[str, str] = {}
    todo: list[str] = []

    def is_banned(module: str) -> bool:
        return any(module == f or module.startswith(f + ".") for f in banned)

    def add(module: str, reason: str) -> None:
        if module not in why and _module_file(root, module) is not None:
            why[module] = reason
            todo.append(module)

    for path in sorted((root / CHECKS).rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        if ".notebooks." in module + "." and module.split(".")[-1] not in (
                "notebooks", "common", f"nb{number}"):
            continue
        add(module, "the check library")
    for source in locked_cell_sources(assignment) if assignment else []:
        for module, names in _imports(_parse(source), everywhere=True):
            for needed in _resolve(root, module, names):
                if _grader_side(needed):
                    raise ViewError(f"a locked cell of {assignment.name} imports {needed}, "  # type: ignore[union-attr]
                                    "which is on the grader's side")
                add(needed, f"a locked cell of {assignment.name}")  # type: ignore[union-attr]
    while todo:
        module = todo.pop()
        module_path = _module_file(root, module)
        assert module_path is not None
        tree = ast.parse(module_path.read_text("utf-8"))
        top = {m for m, _ in _imports(tree, everywhere=False)}
        for imported, names in _imports(tree, everywhere=True):
            for needed in _resolve(root, imported, names):
                lazy = imported not in top
                if (is_banned(needed) or _grader_side(needed)) and lazy:
                    continue  # an optional path that this notebook's sandbox does not take
                if _grader_side(needed):
                    raise ViewError(f"{module} imports {needed} at module level: the student's "
                                    "side must not depend on the grader's")
                if not assignment and needed.startswith("reference_impl"):
                    continue  # the bare library: the per-notebook probes' helpers stay out
                add(needed, module)
    return why


def forbidden(assignment: Assignment) -> tuple[str, ...]:
    from autograder.specs.registry import forbidden as spec_forbidden

    return spec_forbidden(assignment.number)


def check_view(assignment: Assignment, modules: dict[str, str]) -> None:
    """Refuse a view that holds a module implementing the notebook's exercises."""
    bad = [m for m in modules for f in forbidden(assignment) if m == f or m.startswith(f + ".")]
    if not bad:
        return
    module = bad[0]
    chain = [module]
    while modules.get(chain[-1], "").startswith(STUDENT_PACKAGES) and len(chain) < 20:
        chain.append(modules[chain[-1]])
    chain.append(modules.get(chain[-1], "?"))
    raise ViewError(
        f"{assignment.name}'s sandbox would hold {module}, which implements its own exercises "
        f"(FORBIDDEN in autograder/specs/nb{assignment.number}.py); imported by "
        + " ← ".join(chain[1:]) + ". Import it inside the function that needs it, or change "
        "the notebook's locked cells so they do not need it.")


def _files(assignment: Assignment | None, modules: Iterable[str], root: Path) -> list[Path]:
    files = []
    for module in sorted(modules):
        path = _module_file(root, module)
        assert path is not None
        files.append(path)
        if module == "reference_impl.data.digits":
            files += sorted((root / "reference_impl" / "data").glob("*.npz"))
    files.append(root / "autograder" / "exercises" / "__init__.py")
    if assignment is not None:
        files.append(root / "autograder" / "exercises" / f"nb{assignment.number}.json")
    return files


STUDENT_INIT = '''"""The course's package, student build: the check library and its visible data only."""

__version__ = "{version}"
'''


def _fingerprint(files: Iterable[Path], root: Path) -> str:
    digest = hashlib.sha256(BUILDER_VERSION.encode())
    for path in files:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_view(assignment: Assignment | None, *, root: Path = ROOT, out: Path | None = None) -> View:
    """Write (or reuse, when nothing changed) the view of ``assignment`` under ``build/views/NN``;
    with no assignment, the bare check library under ``build/views/bare``."""
    from autograder import __version__

    modules = needed_modules(assignment, root)
    if assignment is not None:
        check_view(assignment, modules)
    files = _files(assignment, modules, root)
    key = _fingerprint(files, root)
    number = assignment.number if assignment else "bare"
    target = out or root / "build" / "views" / number
    manifest = target / "MANIFEST.json"
    view = View(number, target, tuple(sorted(modules)),
                forbidden(assignment) if assignment else ())
    try:
        if _trusted(target) and json.loads(manifest.read_text())["fingerprint"] == key:
            return view
    except (OSError, ValueError, KeyError):
        pass
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _sweep_staging(target.parent, number)
        staging = Path(tempfile.mkdtemp(prefix=f".view-{number}-", dir=target.parent))
    except OSError:  # a checkout this user cannot write: a private copy for this process
        target = Path(tempfile.mkdtemp(prefix=f"dlf-view-{number}-")) / "view"
        atexit.register(shutil.rmtree, target.parent, True)
        view = View(number, target, view.modules, view.forbidden)
        staging = Path(tempfile.mkdtemp(prefix=f".view-{number}-", dir=target.parent))
    for path in files:
        rel = path.relative_to(root)
        dest = staging / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if rel.as_posix() == "autograder/__init__.py":
            continue
        shutil.copyfile(path, dest)
    (staging / "autograder" / "__init__.py").write_text(STUDENT_INIT.format(version=__version__))
    (staging / "MANIFEST.json").write_text(json.dumps({
        "notebook": number, "assignment": assignment.name if assignment else None,
        "fingerprint": key, "modules": sorted(modules), "forbidden": list(view.forbidden)},
        indent=1) + "\n")
    for item in [staging, *staging.rglob("*")]:  # nobody else may change what sandboxes import
        item.chmod(0o755 if item.is_dir() else 0o644)
    _replace(target, staging)
    return view


STALE_STAGING_SECONDS = 600.0


def _sweep_staging(folder: Path, number: str) -> None:
    """Staging folders of builds that were killed half-way (a build takes well under a
    second, so one untouched for ten minutes is nobody's)."""
    for old in folder.glob(f".view-{number}-*"):
        try:
            if time.time() - old.stat().st_mtime > STALE_STAGING_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue


def _replace(target: Path, staging: Path) -> None:
    """Put ``staging`` at ``target``; several workers may rebuild the same stale view at once,
    and each then ends with one complete view there (their builds are the same)."""
    old = staging.with_name(staging.name + ".old")
    try:
        target.rename(old)
    except FileNotFoundError:
        pass  # no view yet, or another worker is replacing it
    except OSError:
        shutil.rmtree(target, ignore_errors=True)
    try:
        staging.rename(target)
    except OSError:  # another worker's build got there first
        shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)


def _trusted(path: Path) -> bool:
    """A folder of ours (or root's) that nobody else can write to: anything else is rebuilt."""
    import stat

    try:
        st = path.lstat()
    except FileNotFoundError:
        return False
    return (stat.S_ISDIR(st.st_mode) and st.st_uid in (os.geteuid(), 0)
            and not st.st_mode & 0o022)


def bare_view(*, root: Path = ROOT) -> View:
    """The check library alone, for notebooks of no course of ours (plain nbgrader tests)."""
    return build_view(None, root=root)


def view_for(name: str, *, root: Path = ROOT) -> View:
    """The view of the assignment called ``name`` (``06_backpropagation``), built if stale."""
    known = {a.name: a for a in assignments(root)}
    if name not in known:
        raise ValueError(f"unknown assignment {name!r}; the course has: {', '.join(known)}")
    return build_view(known[name], root=root)


def write_wheel(view: View, out_dir: Path) -> Path:
    """A wheel of the view, ``dlf_course_nbNN``: what a student of notebook NN installs."""
    from autograder import __version__

    name = f"dlf_course_nb{view.notebook}"
    wheel = out_dir / f"{name}-{__version__}-py3-none-any.whl"
    out_dir.mkdir(parents=True, exist_ok=True)
    dist = f"{name}-{__version__}.dist-info"
    records = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in view.path.rglob("*") if p.is_file()):
            rel = path.relative_to(view.path).as_posix()
            if rel == "MANIFEST.json" or "__pycache__" in rel:
                continue
            data = path.read_bytes()
            zf.writestr(rel, data)
            records.append(_record(rel, data))
        meta = {
            f"{dist}/METADATA": (f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\n"
                                 f"Version: {__version__}\nSummary: Notebook {view.notebook} of "
                                 "the deep-learning foundations course: student build\n"
                                 "Requires-Python: >=3.11\nRequires-Dist: numpy\n"
                                 "Requires-Dist: matplotlib\n"),
            f"{dist}/WHEEL": ("Wheel-Version: 1.0\nGenerator: dlf\nRoot-Is-Purelib: true\n"
                              "Tag: py3-none-any\n"),
        }
        for rel, text in meta.items():
            zf.writestr(rel, text)
            records.append(_record(rel, text.encode()))
        records.append(f"{dist}/RECORD,,")
        zf.writestr(f"{dist}/RECORD", "\n".join(records) + "\n")
    return wheel


def _record(rel: str, data: bytes) -> str:
    import base64

    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{rel},sha256={digest},{len(data)}"


def python_path(view: View) -> list[str]:
    """sys.path for a Python that sees the view and the installed third-party packages only."""
    import sysconfig

    paths = sysconfig.get_paths()
    stdlib = [p for p in sys.path if p and Path(p).resolve().is_relative_to(Path(sys.base_prefix).resolve())
              and "site-packages" not in p]
    site = list(dict.fromkeys([paths["purelib"], paths["platlib"]]))
    return [str(view.path), *stdlib, *site]


def student_command(view: View, module: str, *args: str) -> list[str]:
    """A command running ``module``'s ``main`` with the view as the only course code.

    ``-S`` skips site-packages' ``.pth`` files, which is how an editable install of the
    whole course puts the repository on sys.path; ``-E`` and ``-s`` ignore PYTHONPATH and
    the user's site directory.
    """
    bootstrap = ("import sys; sys.path[:] = " + repr(python_path(view)) + "; "
                 f"import runpy; sys.argv = [{module!r}, *sys.argv[1:]]; "
                 f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)")
    return [sys.executable, "-S", "-E", "-s", "-c", bootstrap, *args]
