"""Where the grader meets the answer key: the view, the hidden inputs, the verdicts.

Grader side. The sandbox plumbing calls only these three functions, so the split of
the check library into a student side and a grader side can change what they do
without touching the sandbox:

- ``view_dir(assignment)``: the folder whose packages are the only course code the
  notebook's sandbox can import (its zygote's ``sys.path`` starts there);
- ``hidden_inputs_blob(assignment)``: bytes handed to the sandbox's check library
  (``autograder.checks.channel.hidden_blob``) for the hidden checks;
- ``evaluate_record(check_id, hidden, observations)``: the verdict on one record.

Provisional versions: the view is a copy of ``autograder/`` and ``reference_impl/``,
built once per process and cached under ``build/views/``; the blob is empty; verdicts
come from the check registry.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from autograder.checks import registry
from autograder.checks.spec import Observation, Verdict
from autograder.nb.course import ROOT

VIEW_PACKAGES = ("autograder", "reference_impl")


def view_dir(assignment_name: str) -> Path:
    """The folder holding the course code the sandbox of ``assignment_name`` may import."""
    return _provisional_view(str(ROOT))


def hidden_inputs_blob(assignment_name: str) -> bytes:
    """What the sandbox's check library receives for the hidden checks of this notebook."""
    return b""


def evaluate_record(check_id: str, hidden: bool,
                    observations: Sequence[Observation]) -> Verdict:
    """The verdict on one record a test cell wrote: decided here, in the grader's process."""
    return registry.get(check_id).evaluate(list(observations), hidden=hidden)


@functools.cache
def _provisional_view(root: str) -> Path:
    sources = [Path(root) / name for name in VIEW_PACKAGES]
    files = sorted(p for src in sources for p in src.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts)
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    name = digest.hexdigest()[:16]
    cache = Path(root) / "build" / "views"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        target = cache / name
        if _owned_folder(target):
            return target
        return _build(cache, target, sources, files, Path(root))
    except OSError:  # a read-only checkout: a private copy for this process
        scratch = Path(tempfile.mkdtemp(prefix="dlf-view-"))
        atexit.register(shutil.rmtree, scratch, True)
        return _build(scratch, scratch / name, sources, files, Path(root))


def _owned_folder(path: Path) -> bool:
    """A folder of ours nobody else can write to: anything else is not used as a view."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return False
    import stat

    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o022


def _build(parent: Path, target: Path, sources: list[Path], files: list[Path], root: Path) -> Path:
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=parent))
    for path in files:
        out = staging / path.relative_to(root)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
    for folder in [staging, *(p for p in staging.rglob("*") if p.is_dir())]:
        folder.chmod(0o755)
    try:
        staging.rename(target)
    except OSError:  # another process built it first
        shutil.rmtree(staging, ignore_errors=True)
        if not _owned_folder(target):
            raise
    return target
