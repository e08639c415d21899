"""Linux isolation from inside a forked child: namespaces, hidden folders, resource limits.

These are the kernel facilities bubblewrap uses, called directly: a new mount namespace
in which the course's private folders are covered by empty tmpfs mounts, a network
namespace with no interfaces up, and a PID namespace whose first process takes every
other process with it when it ends. Each step that the system refuses is skipped and
reported, so grading still works (less isolated) on other systems.
"""

from __future__ import annotations

import ctypes
import os
import resource
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_REC = 16384
MS_PRIVATE = 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)


def _unshare(flags: int) -> bool:
    return _libc.unshare(ctypes.c_int(flags)) == 0


def _mount(source: bytes | None, target: bytes, fstype: bytes | None, flags: int,
           data: bytes | None) -> bool:
    fn = _libc.mount
    fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                   ctypes.c_char_p]
    return fn(source, target, fstype, flags, data) == 0


def enter_namespaces() -> list[str]:
    """Call in the job process before forking the runner; returns what took effect."""
    applied: list[str] = []
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID
    if os.geteuid() == 0:
        if _unshare(flags):
            applied += ["mount namespace", "no network", "pid namespace"]
    else:
        uid, gid = os.geteuid(), os.getegid()
        if _unshare(flags | CLONE_NEWUSER):
            try:
                Path("/proc/self/setgroups").write_text("deny")
                Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
                Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
            except OSError:
                pass
            applied += ["user namespace", "mount namespace", "no network", "pid namespace"]
    if "mount namespace" in applied:
        _mount(None, b"/", None, MS_REC | MS_PRIVATE, None)
    return applied


def hide(paths: list[Path]) -> list[str]:
    """Cover each folder with an empty, read-only tmpfs (needs the mount namespace)."""
    hidden = []
    for path in paths:
        if path.is_dir() and _mount(b"tmpfs", str(path).encode(), b"tmpfs", 1, b"size=4k,mode=0555"):
            hidden.append(str(path))
    return hidden


def private_paths(root: Path,
                  keep: tuple[str, ...] = (".venv", "autograder", "reference_impl")) -> list[Path]:
    """Everything in the course repository a submission has no business seeing."""
    return [p for p in root.iterdir() if p.is_dir() and p.name not in keep]


def limit_resources(*, memory_bytes: int, max_processes: int, max_file_bytes: int) -> list[str]:
    """rlimits for the runner; the address-space limit is added to what is mapped already."""
    applied = []
    try:
        with open("/proc/self/statm") as fh:
            mapped = int(fh.read().split()[0]) * resource.getpagesize()
    except OSError:
        mapped = 0
    for name, which, value in (("memory", resource.RLIMIT_AS, mapped + memory_bytes),
                               ("processes", resource.RLIMIT_NPROC, max_processes),
                               ("file size", resource.RLIMIT_FSIZE, max_file_bytes),
                               ("core dumps", resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(which, (value, value))
            applied.append(name)
        except (ValueError, OSError):
            continue
    return applied


def drop_capabilities() -> list[str]:
    """Give up every capability (root stays uid 0 but can no longer unmount, trace or override).

    Without capabilities the process limit applies even to root, and the tmpfs covers
    over the course's folders cannot be lifted.
    """
    PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 38, 24
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    for cap in range(64):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header = Header(0x20080522, 0)
    data = (Data * 2)()
    if _libc.capset(ctypes.byref(header), data) != 0:
        return []
    return ["no capabilities"]


CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


def pids_cgroup(pid: int) -> Path | None:
    """Where the job process ``pid`` keeps its process-count cgroup, if the system has one."""
    for base in CGROUP_ROOTS:
        if (base / "cgroup.procs").exists() and os.access(base, os.W_OK):
            return base / f"dlf-{pid}"
    return None


def join_pids_cgroup(max_processes: int) -> list[str]:
    """Put this process (and so all it starts) in a cgroup that caps its number of processes.

    Root is exempt from RLIMIT_NPROC, so the cap on a fork bomb comes from the pids
    controller when it is available; the executor removes the group afterwards.
    """
    group = pids_cgroup(os.getpid())
    if group is None:
        return []
    try:
        group.mkdir(exist_ok=True)
        if not (group / "pids.max").exists():
            group.rmdir()
            return []
        (group / "pids.max").write_text(str(max_processes))
        (group / "cgroup.procs").write_text("0")
    except OSError:
        return []
    return ["process cap (cgroup)"]


def remove_cgroup(group: Path | None) -> None:
    if group is None or not group.exists():
        return
    for _ in range(50):
        try:
            group.rmdir()
            return
        except OSError:  # its last processes are still being reaped
            import time

            time.sleep(0.02)


def processes_of_current_user() -> int:
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count
