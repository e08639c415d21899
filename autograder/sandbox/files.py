"""A submission's notebook and the files beside it, read without following any symbolic link.

Grader side. The folder is opened with ``O_NOFOLLOW`` and every file in it relative to
that descriptor, again with ``O_NOFOLLOW``; only regular files are taken, up to a
count and a number of bytes. A symbolic link (``answers -> /course/solutions``) is
named in a flag and never read, and a notebook or folder that is itself a link is
refused. The open descriptors go to the sandbox, which copies them into its private
working folder, so no path of the grader's is ever opened from inside it.

Another nbgrader course's assignment may have files of its own beside its notebooks
(data, helper modules): nbgrader copies them over the student's files before it runs a
notebook. They travel the same way, opened here one by one (never its source folder,
which holds the solutions and hidden tests) and copied first, so they win over a
student's file of the same name.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

MAX_NOTEBOOK_BYTES = 128 * 1024**2
MAX_COURSE_FILES = 256  # an assignment's own files; the sandbox's tmpfs caps their bytes


class SubmissionRefused(Exception):
    """The submission cannot be graded as it is; the message says why, in words."""


@dataclass
class SubmissionFiles:
    notebook: bytes
    files: list[tuple[str, int]] = field(default_factory=list)  # name, descriptor
    n_course: int = 0  # how many of ``files``, first, are the course's own (not the student's)
    problems: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def close(self) -> None:
        for _, fd in self.files:
            try:
                os.close(fd)
            except OSError:
                pass
        self.files = []


def _nofollow(follow_symlinks: bool) -> int:
    return 0 if follow_symlinks else os.O_NOFOLLOW


def open_submission(path: Path, *, max_files: int, max_bytes: int,
                    follow_symlinks: bool = False) -> SubmissionFiles:
    """Read the notebook at ``path`` and open the regular files beside it."""
    nofollow = _nofollow(follow_symlinks)
    try:
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | nofollow)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise SubmissionRefused(f"the submission's folder {path.parent.name} is a symbolic "
                                    "link; links are never followed") from None
        raise SubmissionRefused(f"the submission's folder cannot be opened ({exc.strerror})") from None
    try:
        notebook = _read_notebook(folder, path.name, nofollow)
        out = SubmissionFiles(notebook)
        _open_beside(folder, path.name, out, max_files, max_bytes, nofollow)
        return out
    finally:
        os.close(folder)


def _read_notebook(folder: int, name: str, nofollow: int) -> bytes:
    try:
        fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | nofollow, dir_fd=folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SubmissionRefused(f"the notebook {name} is a symbolic link; links are never "
                                    "followed") from None
        raise SubmissionRefused(f"the notebook {name} cannot be opened ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionRefused(f"the notebook {name} is not a regular file")
        if info.st_size > MAX_NOTEBOOK_BYTES:
            raise SubmissionRefused(f"the notebook is {info.st_size / 1024**2:.0f} MB, more than "
                                    f"the {MAX_NOTEBOOK_BYTES // 1024**2} MB a notebook may have")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _open_beside(folder: int, notebook: str, out: SubmissionFiles, max_files: int,
                 max_bytes: int, nofollow: int) -> None:
    total = 0
    with os.scandir(folder) as entries:
        names = sorted((e.name, e.is_symlink()) for e in entries)
    for name, is_link in names:
        if name == notebook or name.endswith(".ipynb"):
            continue
        if is_link and nofollow:
            try:
                target = os.readlink(name, dir_fd=folder)
            except OSError:
                target = "?"
            out.flags.append(f"the submission's folder holds a symbolic link {name} -> {target}; "
                             "it was not followed")
            continue
        try:
            fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | nofollow, dir_fd=folder)
        except OSError:
            continue
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            continue  # folders, fifos and devices beside a notebook are not handed in
        if len(out.files) >= max_files or total + info.st_size > max_bytes:
            os.close(fd)
            out.problems.append(f"only the first {len(out.files)} files beside the notebook were "
                                f"copied (at most {max_files} files, {max_bytes // 1024**2} MB)")
            break
        total += info.st_size
        out.files.append((name, fd))


def safe_name(name: str) -> bool:
    """A relative path inside the working folder: no absolute path, no ``..``, no empty part."""
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def open_course_files(files: Sequence[tuple[str, str]], into: SubmissionFiles) -> list[str]:
    """Open the course's own files (``(name, path)``) and put them first in ``into``.

    Returns the problems: a file that is a symbolic link, not a regular file, or beyond
    ``MAX_COURSE_FILES``, is not copied.
    """
    problems: list[str] = []
    opened: list[tuple[str, int]] = []
    for name, path in files:
        if len(opened) >= MAX_COURSE_FILES:
            problems.append(f"only the first {MAX_COURSE_FILES} of the assignment's own files were copied")
            break
        if not safe_name(name):
            problems.append(f"the assignment's file {name!r} has a name that leaves its folder; not copied")
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOFOLLOW)
        except OSError as exc:
            why = "is a symbolic link" if exc.errno == errno.ELOOP else f"cannot be opened ({exc.strerror})"
            problems.append(f"the assignment's file {name} {why}; it was not copied")
            continue
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            problems.append(f"the assignment's file {name} is not a regular file; it was not copied")
            continue
        opened.append((name, fd))
    into.files[:0] = opened
    into.n_course += len(opened)
    return problems
