"""Which grader a process runs: its version and a fingerprint of the code it grades with.

Both sides. Two processes grade alike only when they hold the same grader: the same
``autograder`` and ``reference_impl`` files, the same source notebooks (they hold the hidden
tests), the same lock file and the same Python minor version. The fingerprint is a SHA-256
over those files, so a worker with the right version number but one edited spec is
refused too.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from pathlib import Path

from autograder.nb.course import ROOT

# What a grader is made of, relative to the course's root.
GRADER_TREES = ("autograder", "reference_impl", "solutions")
GRADER_FILES = ("requirements.txt", "pyproject.toml")


@functools.cache
def grader_identity(root: Path = ROOT) -> dict[str, str]:
    """``{"version", "code", "python"}`` of the grader installed at ``root``, computed once."""
    import autograder

    return {"version": str(autograder.__version__), "code": code_fingerprint(root),
            "python": f"{sys.version_info.major}.{sys.version_info.minor}"}


def code_fingerprint(root: Path = ROOT) -> str:
    """SHA-256 over the path and bytes of every file of the grader (caches left out)."""
    digest = hashlib.sha256()
    files = [root / name for name in GRADER_FILES if (root / name).is_file()]
    for tree in GRADER_TREES:
        files += [p for p in (root / tree).rglob("*") if p.is_file() and _counts(p, root)]
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _counts(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return not any(p == "__pycache__" or p.startswith(".") for p in parts) \
        and path.suffix not in (".pyc", ".pyo")


def describe(identity: dict[str, str]) -> str:
    """``grader 0.1.0, code 1a2b3c4d5e6f, Python 3.11``."""
    return (f"grader {identity.get('version', '?')}, code {str(identity.get('code', '?'))[:12]}, "
            f"Python {identity.get('python', '?')}")
