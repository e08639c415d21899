"""The pip lock, pyproject.toml and environment.yml must name the same packages and versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# PyPI name -> conda-forge name, where they differ.
CONDA_NAMES = {"dask": "dask-core"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep, f"requirements.txt line {line!r} is not pinned with =="
            pins[_norm(name)] = version
    return pins


def _conda() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.fullmatch(r"\s*-\s*([A-Za-z0-9_.\-]+)\s*(?:==?\s*([^\s#]+))?\s*", line)
        if m and m.group(1) not in ("conda-forge",):
            pypi = {v: k for k, v in CONDA_NAMES.items()}.get(_norm(m.group(1)), _norm(m.group(1)))
            pins[pypi] = m.group(2) or ""
    return pins


def _direct() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    return {_norm(re.split(r"[<>=!~ \[]", n)[0]) for n in names}


def test_every_direct_dependency_is_listed_for_conda_at_the_locked_version() -> None:
    lock, conda = _lock(), _conda()
    for name in sorted(_direct()):
        assert name in lock, f"{name} is a dependency but missing from requirements.txt"
        assert name in conda, f"{name} is in the pip lock but missing from environment.yml"
        assert conda[name] == lock[name], (
            f"{name}: environment.yml pins {conda[name]}, requirements.txt pins {lock[name]}"
        )


def test_conda_lists_nothing_the_pip_path_lacks() -> None:
    lock, conda = _lock(), _conda()
    extra = {n for n in conda if n not in lock and n not in ("python", "pip")}
    assert not extra, f"environment.yml lists {sorted(extra)}, which requirements.txt does not"


def _run_supported_minors() -> list[int]:
    """The minor versions of Python 3 that `run` accepts (its SUPPORTED_MINORS line)."""
    match = re.search(r'^SUPPORTED_MINORS="([\d ]+)"$', (ROOT / "run").read_text(), re.MULTILINE)
    assert match, "run must define SUPPORTED_MINORS"
    return [int(m) for m in match.group(1).split()]


def test_requires_python_admits_exactly_what_run_accepts() -> None:
    minors = _run_supported_minors()
    assert minors == list(range(minors[0], minors[-1] + 1)), "supported versions must be a range"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == f">=3.{minors[0]},<3.{minors[-1] + 1}"


def test_conda_python_is_a_supported_version() -> None:
    assert _conda()["python"] in {f"3.{m}" for m in _run_supported_minors()}


def test_every_locked_package_admits_the_first_release_of_every_supported_python() -> None:
    """Requires-Python of each installed pin must admit 3.11.0, 3.12.0 and 3.13.0.

    Debian 12 ships 3.11.2; a pin that needs 3.11.5 (soupsieve 3.0.2 and later do) breaks set-up
    there while the lock still resolves on newer patch releases.
    """
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.specifiers import SpecifierSet

    firsts = [f"3.{m}.0" for m in _run_supported_minors()]
    refused = {}
    for name, version in _lock().items():
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue  # the environment test proper is in tests/test_interpreters.py
        assert dist.version == version, f"{name}: .venv has {dist.version}, the lock pins {version}"
        spec = SpecifierSet(dist.metadata.get("Requires-Python") or "")
        too_new = [v for v in firsts if not spec.contains(v)]
        if too_new:
            refused[f"{name}=={version}"] = f"Requires-Python {spec} refuses {too_new}"
    assert not refused, refused


def test_the_lock_pins_setuptools() -> None:
    """nbgrader needs setuptools; Python 3.12+ venvs come without it, so the lock must pin it."""
    assert "setuptools" in _lock()
