"""The pip lock, pyproject.toml and environment.yml must name the same packages and versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
            pins[_norm(m.group(1))] = m.group(2) or ""
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


def test_python_version_matches() -> None:
    assert _conda()["python"] == "3.11"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
