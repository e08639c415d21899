"""`./run` picks a supported Python, says which and why, refuses others, and its .venv works.

The refusal tests run a copy of `run` against fake interpreters (shell scripts that report a
version) and take a second. The build test creates a real .venv with every supported Python
found on this machine (Debian's /usr/bin/python3.11, pyenv's versions, ...), which takes about
about a minute each: it runs only when DLF_TEST_INTERPRETERS is set, as `.ci/run` does.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUPPORTED = ("3.11", "3.12", "3.13")


def _fake_python(folder: Path, name: str, version: str, *, has_venv: bool = True) -> Path:
    """A script that answers the two questions `run` asks an interpreter."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(
        "#!/bin/sh\n"
        'case "$2" in\n'
        f'  *ensurepip*) exit {0 if has_venv else 1} ;;\n'
        f'  *version_info*) echo {version} ;;\n'
        "  *) exit 3 ;;\n"
        "esac\n"
    )
    path.chmod(0o755)
    return path


def _run_copy(tmp_path: Path, *, env: dict[str, str], args: tuple[str, ...] = ("setup",)
              ) -> subprocess.CompletedProcess[str]:
    """`run` copied alone into tmp_path, so no .venv is found and nothing is installed."""
    script = tmp_path / "run"
    shutil.copy(ROOT / "run", script)
    return subprocess.run([str(script), *args], capture_output=True, text=True, env=env,
                          timeout=60, check=False)


def _bare_path(tmp_path: Path) -> str:
    """A PATH with the shell tools `run` needs and no Python at all."""
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    for tool in ("bash", "dirname", "cat"):
        found = shutil.which(tool)
        assert found, f"{tool} is needed to run ./run"
        (tools / tool).symlink_to(found)
    return str(tools)


@pytest.mark.parametrize("version", ["3.10.12", "3.14.0", "2.7.18"])
def test_run_refuses_an_unsupported_python_and_says_what_to_install(
        tmp_path: Path, version: str) -> None:
    fake = _fake_python(tmp_path / "bin", "python", version)
    result = _run_copy(tmp_path, env={**os.environ, "PYTHON": str(fake)})
    assert result.returncode != 0
    assert f"Python {version} is not supported" in result.stderr
    assert "3.11, 3.12 or 3.13" in result.stderr
    assert "apt install python3.11 python3.11-venv" in result.stderr
    assert not (tmp_path / ".venv").exists()


def test_run_names_the_missing_venv_package(tmp_path: Path) -> None:
    fake = _fake_python(tmp_path / "bin", "python", "3.12.3", has_venv=False)
    result = _run_copy(tmp_path, env={**os.environ, "PYTHON": str(fake)})
    assert result.returncode != 0
    assert "sudo apt install python3.12-venv" in result.stderr


def test_run_lists_every_python_it_passed_over(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    _fake_python(bin_dir, "python3", "3.8.10")
    _fake_python(bin_dir, "python3.11", "3.11.4", has_venv=False)
    env = {"PATH": f"{bin_dir}:{_bare_path(tmp_path)}", "HOME": str(tmp_path)}
    result = _run_copy(tmp_path, env=env)
    assert result.returncode != 0
    assert "found no Python this course can use" in result.stderr
    assert re.search(r"python3 \(.*\): Python 3\.8\.10 is not supported", result.stderr)
    assert re.search(r"python3\.11 \(.*\): Python 3\.11\.4 has no venv", result.stderr)


def test_lab_kernels_do_not_inherit_a_matplotlib_backend() -> None:
    """ipykernel keeps MPLBACKEND over its inline backend, and figures vanish from JupyterLab."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    lab = subprocess.run([str(ROOT / "run"), "env", "lab"], capture_output=True, text=True,
                         env=env, timeout=600, check=True)
    assert "MPLBACKEND=" not in lab.stdout
    assert re.search(r"==> Python 3\.\d+\.\d+", lab.stderr), "run must say which Python it uses"
    batch = subprocess.run([str(ROOT / "run"), "env", "test"], capture_output=True, text=True,
                           env={k: v for k, v in os.environ.items() if k != "MPLBACKEND"},
                           timeout=600, check=True)
    assert "MPLBACKEND=Agg" in batch.stdout.splitlines()


def _describe(python: str) -> tuple[str, str] | None:
    """(version, real executable) of a runnable interpreter, else None."""
    try:
        out = subprocess.run(
            [python, "-c", "import os, sys; print('%d.%d.%d' % sys.version_info[:3]);"
                           "print(os.path.realpath(sys.executable))"],
            capture_output=True, text=True, timeout=30, check=True).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return None
    return out[0], out[1]


def machine_interpreters() -> list[tuple[str, str]]:
    """Every supported Python on this machine, once each: (version, path).

    Leaves out the one that built this checkout's .venv: `./run test`, which .ci/run runs
    first, has just built and tested it.
    """
    venv = ROOT / ".venv"
    built_ours = _describe(str(venv / "bin" / "python"))
    candidates = [shutil.which(f"python{v}") for v in ("3", *SUPPORTED)]
    candidates += [f"/usr/bin/python{v}" for v in SUPPORTED]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [str(p) for p in sorted(pyenv.glob("versions/3.1[1-3]*/bin/python3"))]
    found: dict[str, tuple[str, str]] = {}
    for candidate in candidates:
        if not candidate or not os.access(candidate, os.X_OK) or Path(candidate).is_relative_to(venv):
            continue
        described = _describe(candidate)
        if described and described[0].rsplit(".", 1)[0] in SUPPORTED and described != built_ours:
            found.setdefault(described[1], (described[0], candidate))
    return sorted(found.values())


def _pin(line: str) -> str:
    """'Jinja2==3.1.6' -> 'jinja2==3.1.6': pip's normalised name, for comparing pins."""
    name, _, version = line.partition("==")
    return f"{re.sub(r'[-_.]+', '-', name).lower()}=={version}"


OPTED_IN = bool(os.environ.get("DLF_TEST_INTERPRETERS"))
needs_opt_in = pytest.mark.skipif(
    not OPTED_IN,
    reason="builds a .venv per Python (slow); set DLF_TEST_INTERPRETERS=1, as .ci/run does")

IMPORT_THE_COURSE = """
import importlib, pkgutil
import autograder, reference_impl
for package in (reference_impl, autograder):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
import nbformat
from nbclient import NotebookClient
notebook = nbformat.read("solutions/01_unit_to_network/01_unit_to_network.ipynb", 4)
NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
          if o.output_type == "error"]
assert not errors, errors
print("the course imports and notebook 1 runs")
"""


@needs_opt_in
@pytest.mark.parametrize("version,python",
                         (machine_interpreters() if OPTED_IN else []) or [("none", "")])
def test_run_builds_a_venv_with_the_lock_and_the_course_works(
        tmp_path: Path, version: str, python: str) -> None:
    if not python:
        pytest.skip("no supported Python besides the one that built .venv, which ./run test covers")
    project = tmp_path / "project"
    project.mkdir()
    for name in ("run", "requirements.txt", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, project / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".hypothesis")
    for folder in ("reference_impl", "autograder", "tests", "solutions/01_unit_to_network"):
        shutil.copytree(ROOT / folder, project / folder, ignore=ignore)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(ROOT / ".venv")))

    setup = subprocess.run(["./run", "setup"], cwd=project, env={**env, "PYTHON": python},
                           capture_output=True, text=True, timeout=900, check=False)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert f"==> Python {version} at {python}: PYTHON is set" in setup.stderr

    venv_python = str(project / ".venv" / "bin" / "python")
    described = _describe(venv_python)
    assert described and described[0] == version
    frozen = subprocess.run([venv_python, "-m", "pip", "freeze", "--all", "--exclude-editable",
                             "--exclude", "pip"], capture_output=True, text=True, check=True)
    lock = {_pin(line) for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line and not line.startswith("#")}
    installed = {_pin(line) for line in frozen.stdout.splitlines() if "==" in line}
    assert installed == lock, (f"missing or other versions: {sorted(lock - installed)}; "
                               f"not in the lock: {sorted(installed - lock)}")

    works = subprocess.run([venv_python, "-c", IMPORT_THE_COURSE], cwd=project, env=env,
                           capture_output=True, text=True, timeout=300, check=False)
    assert works.returncode == 0, works.stdout + works.stderr
    tests = subprocess.run([venv_python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "tests/reference_impl"], cwd=project, env=env,
                           capture_output=True, text=True, timeout=600, check=False)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
