"""Each notebook's student build, installed alone: no answer key in it, and the notebook runs.

For every notebook the build (``dlf student-build``: the notebook's view, as a wheel) is
installed into a fresh virtual environment that sees the third-party packages and nothing
of the repository. There the notebook's own references cannot be imported, no hidden
expected value, grader module or right numeric answer is in its files, the blank release
runs top to bottom without a missing module and with no error but its checks' "not
implemented yet" or "no answer yet" and its demos' one-line waits, and the solution passes
every visible check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from autograder.checks import judge, values
from autograder.nb.course import Assignment, assignments
from autograder.nb.views import View, build_view, write_wheel
from autograder.specs import registry
from autograder.specs.base import ChoiceCheck, FunctionCheck, ValueCheck

pytestmark = pytest.mark.notebooks

ASSIGNMENTS = assignments()
RUN_CELLS = r"""
import json, sys, nbformat, matplotlib
matplotlib.use("Agg")
nb = nbformat.read(sys.argv[1], as_version=4)
ns, errors = {"__name__": "__main__"}, []
for i, cell in enumerate(nb.cells):
    if cell.cell_type != "code":
        continue
    try:
        exec(compile(cell.source, f"<cell {i}>", "exec"), ns)
    except BaseException as exc:
        errors.append([i, type(exc).__name__, str(exc)])
print("\n@@" + json.dumps(errors))
"""


def _venv(tmp: Path, view: View) -> Path:
    """A fresh venv with the notebook's wheel and a path to the third-party packages only."""
    env = tmp / f"venv{view.notebook}"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # A path line adds the directory only: the editable install's .pth inside it is not run.
    Path(site, "third_party.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = write_wheel(view, tmp / "wheels")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], check=True)
    return python


def _run(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd,
                          env={"PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg",
                               "OPENBLAS_NUM_THREADS": "1"}, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[View, Path, Path]]:
    tmp = tmp_path_factory.mktemp("student-build")
    views = {a.number: build_view(a) for a in ASSIGNMENTS}
    with ThreadPoolExecutor(max_workers=4) as pool:
        pythons = dict(zip(views, pool.map(lambda v: _venv(tmp, v), views.values()), strict=True))
    return {n: (views[n], pythons[n], tmp) for n in views}


@pytest.fixture(params=ASSIGNMENTS, ids=[a.name for a in ASSIGNMENTS])
def assignment(request: pytest.FixtureRequest) -> Assignment:
    return request.param


def test_the_notebooks_own_references_and_the_grader_cannot_be_imported(
        installed: dict[str, tuple[View, Path, Path]], assignment: Assignment) -> None:
    view, python, tmp = installed[assignment.number]
    banned = [*view.forbidden, "autograder.specs", "autograder.grading", "autograder.sandbox",
              "autograder.instructor", "autograder.cli"]
    probe = ("import importlib, json, sys\nout = {}\nfor m in sys.argv[1:]:\n"
             "    try:\n        importlib.import_module(m); out[m] = 'imported'\n"
             "    except ImportError as e:\n        out[m] = 'missing'\nprint(json.dumps(out))")
    found = json.loads(_run(python, tmp, "-c", probe, *banned).stdout)
    assert set(found.values()) == {"missing"}, {m: s for m, s in found.items() if s != "missing"}


def _check_references(check: FunctionCheck) -> list[object]:
    out: list[object] = [check.reference, *(m.impl for m in check.mistakes)]
    return [r for r in out if getattr(r, "__module__", "").startswith(("autograder.specs", "reference_impl"))]


def test_no_reference_module_of_the_notebook_is_in_its_files(
        installed: dict[str, tuple[View, Path, Path]], assignment: Assignment) -> None:
    view, _, _ = installed[assignment.number]
    files = {p.relative_to(view.path).as_posix() for p in view.path.rglob("*.py")}
    assert not [f for f in files if f.startswith("autograder/") and not
                f.startswith(("autograder/checks/", "autograder/exercises/"))
                and f != "autograder/__init__.py"], files
    for cid in registry.all_ids(assignment.number):
        check = registry.get(cid)
        if not isinstance(check, FunctionCheck):
            continue
        for ref in _check_references(check):
            module = getattr(ref, "__module__", "")
            assert module.replace(".", "/") + ".py" not in files, f"{cid}: {module} is in the build"


def _arrays(data: object) -> list[np.ndarray]:
    """Every array encoded anywhere in a decoded exercises file."""
    found: list[np.ndarray] = []
    if isinstance(data, dict):
        if set(data) in ({"npy"}, {"scalar"}):
            found.append(np.asarray(values.decode(data)))
        else:
            for v in data.values():
                found += _arrays(v)
    elif isinstance(data, list):
        for v in data:
            found += _arrays(v)
    return found


def test_no_hidden_expected_value_and_no_right_answer_is_in_its_files(
        installed: dict[str, tuple[View, Path, Path]], assignment: Assignment) -> None:
    view, _, _ = installed[assignment.number]
    data = json.loads((view.path / "autograder" / "exercises" / f"nb{assignment.number}.json").read_text())
    shipped = [a for p in view.path.rglob("*.json") for a in _arrays(json.loads(p.read_text()))]
    for cid in registry.all_ids(assignment.number):
        check = registry.get(cid)
        if isinstance(check, FunctionCheck) and check.type == "function":
            _, expected, _ = check.prepared(True)
            for value in expected:
                # Arrays of a few distinct values (masks, flags, constants) recur by chance.
                for arr in (v for v in (value if isinstance(value, tuple) else (value,))
                            if isinstance(v, np.ndarray) and len(np.unique(v)) >= 4):
                    assert not any(s.shape == arr.shape and np.array_equal(s, arr) for s in shipped), \
                        f"{cid}: a hidden expected value is in the build"
        elif isinstance(check, ValueCheck | ChoiceCheck):
            entry = data["checks"][cid]
            # Not the answer, and not its known wrong values either (they give it away).
            assert not {"expected", "cases", "value_mistakes"} & set(entry), cid


def test_the_blank_release_runs_top_to_bottom_with_only_its_build(
        installed: dict[str, tuple[View, Path, Path]], assignment: Assignment) -> None:
    _, python, tmp = installed[assignment.number]
    done = _run(python, tmp, "-c", RUN_CELLS, str(assignment.release))
    assert done.returncode == 0, done.stderr[-2000:]
    errors = json.loads(done.stdout.rsplit("\n@@", 1)[1])
    missing = [e for e in errors if e[1] in ("ModuleNotFoundError", "ImportError")]
    assert not missing, missing
    other = [e for e in errors if not (e[1] == "CheckFailed" and judge.is_unanswered(e[2]))
             and e[1] != "NotReady"]
    assert not other, f"a first run raises more than the checks' own messages and waits: {other}"


def test_the_solution_passes_every_visible_check_with_only_its_build(
        installed: dict[str, tuple[View, Path, Path]], assignment: Assignment) -> None:
    _, python, tmp = installed[assignment.number]
    done = _run(python, tmp, "-m", "autograder.checks.selfcheck", "check", str(assignment.source))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "✗" not in done.stdout


def test_forbidden_lists_every_reference_impl_module_the_notebook_checks_against(
        assignment: Assignment) -> None:
    forbidden = registry.forbidden(assignment.number)
    for cid in registry.all_ids(assignment.number):
        check = registry.get(cid)
        if not isinstance(check, FunctionCheck):
            continue
        module = getattr(check.reference, "__module__", "") or ""
        if module.startswith("reference_impl"):
            assert any(module == f or module.startswith(f + ".") for f in forbidden), \
                f"{cid} checks against {module}: add it to FORBIDDEN in autograder/specs/nb{assignment.number}.py"


def _build_first_view(target: Path) -> Path:
    return build_view(assignments()[0], out=target).path


def test_workers_that_rebuild_a_stale_view_at_once_all_end_with_it(tmp_path: Path) -> None:
    """Every worker of ``dlf grade`` builds its views on first use: after an update they all
    find them stale together, and none may fail on another's half-replaced folder."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    target = tmp_path / "view"
    _build_first_view(target)
    with ProcessPoolExecutor(max_workers=4, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_build_first_view, [tmp_path / "warm"] * 4))  # the workers have started
        for _ in range(4):
            manifest = target / "MANIFEST.json"
            manifest.chmod(0o644)
            manifest.write_text(json.dumps(json.loads(manifest.read_text()) | {"fingerprint": "stale"}))
            assert set(pool.map(_build_first_view, [target] * 8)) == {target}
            assert json.loads((target / "MANIFEST.json").read_text())["fingerprint"] != "stale"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["view", "warm"]  # no staging left behind


def test_staging_left_by_a_killed_build_goes_with_the_next_build(tmp_path: Path) -> None:
    target = tmp_path / "view"
    number = assignments()[0].number
    stale, fresh = tmp_path / f".view-{number}-killed", tmp_path / f".view-{number}-building"
    for folder in (stale, fresh):
        (folder / "autograder").mkdir(parents=True)
    long_ago = time.time() - 3600
    os.utime(stale, (long_ago, long_ago))
    _build_first_view(target)
    assert not stale.exists()
    assert fresh.is_dir()  # another worker's build may still be filling it
