"""The system calls the sandbox's steps make, through ctypes: namespaces, mounts, prctl.

Sandbox side of the grader: only the standard library, so the zygote can load it from the
grader's files without the repository on its ``sys.path``.
"""

from __future__ import annotations

import ctypes
import os
import platform
import re
import time

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 21, 1 << 24
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41, "riscv64": 41}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int,
          data: str | None = None) -> None:
    _check(_libc.mount(source.encode() if source else None, target.encode(),
                       fstype.encode() if fstype else None, flags,
                       data.encode() if data else None), f"mount {target}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), f"unshare {flags:#x}")


def prctl(option: int, arg: int = 0) -> None:
    _check(_libc.prctl(option, arg, 0, 0, 0), f"prctl {option}")


def die_with_parent() -> None:
    """SIGKILL this process when the thread that forked it ends."""
    prctl(PR_SET_PDEATHSIG, 9)


CONTROLLERS = ("pids", "memory", "cpu")  # the cgroup controllers a sandbox gets a group of


def new_cgroup(controller: str, pid: int) -> str | None:
    """Where the supervisor ``pid`` keeps its own group of ``controller`` (one of CONTROLLERS):
    a child of this process's group, so the limits of whatever runs the grader (a container,
    a systemd unit) still hold above it; None when this process may not make one."""
    try:
        with open("/proc/self/cgroup") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    base = None
    for line in lines:  # "N:pids:/path" for cgroup v1, "0::/path" for v2
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            base = f"/sys/fs/cgroup/{controller}{path}"
            break
    else:
        for line in lines:
            if line.startswith("0::"):
                base = f"/sys/fs/cgroup{line[3:]}"
                try:  # v2: only a controller the group hands to its children
                    with open(f"{base.rstrip('/')}/cgroup.subtree_control") as fh:
                        if controller not in fh.read().split():
                            return None
                except OSError:
                    return None
    if base is None:
        return None
    base = base.rstrip("/")
    if os.path.exists(f"{base}/cgroup.procs") and os.access(base, os.W_OK):
        return f"{base}/dlf-{pid}"
    return None


def oom_kills(group: str | None) -> int:
    """How many processes the memory cgroup ``group`` killed for reaching its cap."""
    if group is None:
        return 0
    for name in ("memory.events", "memory.oom_control"):  # cgroup v2, v1 (Linux 4.13+)
        try:
            with open(f"{group}/{name}") as fh:
                for line in fh:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return 0


def sweep_cgroups() -> None:
    """Remove the groups of supervisors that are gone without removing them (killed together
    with their worker and its zygote); a group is named after its supervisor's pid, so one
    whose pid is not running is nobody's."""
    for controller in CONTROLLERS:
        group = new_cgroup(controller, 0)
        if group is None:
            continue
        base = os.path.dirname(group)
        try:
            names = os.listdir(base)
        except OSError:
            continue
        for name in names:
            if name.startswith("dlf-") and name[4:].isdigit() and not _running(int(name[4:])):
                remove_cgroup(f"{base}/{name}")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def pivot_root(new_root: str) -> None:
    """Make ``new_root`` (a mount point) this mount namespace's root and detach the old one."""
    number = SYS_PIVOT_ROOT.get(platform.machine())
    os.chdir(new_root)
    if number is not None and _libc.syscall(number, b".", b".") == 0:
        _check(_libc.umount2(b".", MNT_DETACH), "umount the old root")
    else:  # without pivot_root: chroot, which needs CAP_SYS_CHROOT to escape, dropped later
        os.chroot(".")
    os.chdir("/")


def drop_capabilities() -> None:
    """No capability left: the bounding set, the ambient set, and effective/permitted/inheritable."""
    for cap in range(64):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header = Header(0x20080522, 0)
    data = (Data * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def mounts() -> list[tuple[int, int, str, int]]:
    """(mount id, parent id, mount point, per-mount flags) of every mount, parents first."""
    out = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            fields = line.split()
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
            out.append((int(fields[0]), int(fields[1]), point, parse_flags(fields[5])))
    return out


def parse_flags(options: str) -> int:
    table = {"ro": MS_RDONLY, "nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC,
             "noatime": MS_NOATIME, "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME,
             "strictatime": MS_STRICTATIME}
    flags = 0
    for option in options.split(","):
        flags |= table.get(option, 0)
    return flags


def flags_of(path: str) -> int:
    flags = 0
    for _, _, point, point_flags in mounts():
        if point == path:
            flags = point_flags  # the last one listed is the one on top
    return flags


def remount_read_only(point: str, flags: int) -> None:
    # Flags a user namespace inherits locked (nosuid, nodev, noexec, atime) must be repeated.
    mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | (flags & ~MS_RDONLY))


def processes_of_user(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


def remove_cgroup(group: str | None) -> None:
    """Remove a supervisor's cgroup once its processes are gone (they may still be reaped)."""
    if group is None or not os.path.isdir(group):
        return
    for _ in range(100):
        try:
            os.rmdir(group)
            return
        except OSError:
            try:
                with open(f"{group}/cgroup.procs") as fh:
                    for pid in fh.read().split():
                        try:
                            os.kill(int(pid), 9)
                        except (ProcessLookupError, ValueError):
                            pass
            except OSError:
                return
            time.sleep(0.01)
