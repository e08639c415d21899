"""The sandbox, step by step: each protection is one named step of a pipeline.

These are the kernel calls bubblewrap makes, called directly through ctypes. The
supervisor runs the ``outer`` steps (pids, memory and cpu cgroups, then new user, mount,
network, IPC and PID namespaces); the notebook's first process, PID 1 of the new PID namespace, runs
the ``inner`` steps: a fresh root on tmpfs holding read-only bind mounts of only what
Python needs, one private size-capped tmpfs for ``/tmp`` and the working folder, a
minimal ``/dev``, a fresh ``/proc``, then no capabilities, no new privileges and limits.

A step returns True when it took effect, None when it does not apply here (a user
namespace when already root), and False or an exception when the system refused it;
``result.json``'s ``isolation`` lists what took effect. A test can run the sandbox with
any step left out (``skip``) to show the protection it pins is the one that holds.

The system calls are in ``kernel``. Both modules import only the standard library: the
zygote loads them from the grader's files without the repository on its ``sys.path``.
"""

from __future__ import annotations

import os
import resource
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .kernel import (
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWUSER,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    PR_SET_NO_NEW_PRIVS,
    drop_capabilities,
    flags_of,
    mount,
    mounts,
    new_cgroup,
    pivot_root,
    prctl,
    processes_of_user,
    remount_read_only,
    remove_cgroup,
    unshare,
)

# Everything the sandbox shows of the machine besides the Python installation, the venv and
# the view: the system's programs and libraries, and a few files of /etc (not /etc/shadow).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("passwd", "group", "nsswitch.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
             "localtime", "timezone", "hosts", "host.conf", "fonts", "mime.types", "alternatives")
DEVICES = ("null", "zero", "full", "random", "urandom")
STAGING = "/tmp"  # where the new root is assembled, inside the private mount namespace
TMP_WORKDIR = "/tmp/work"
# Mount points (relative to the sandbox's root) the read-only step leaves writable.
WRITABLE = ("/tmp", "/dev/shm", "/proc")
# Left writable by "fresh /proc"'s own read-only binds: root without capabilities could
# otherwise still write most sysctls (the kernel checks only the file mode for uid 0).
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus", "fs")
SHM_BYTES = 16 * 1024**2  # the sandbox's /dev/shm


def memory_cap(memory_bytes: int, tmp_bytes: int) -> int:
    """What all of a sandbox's processes and its tmpfs may hold together."""
    return memory_bytes + tmp_bytes + SHM_BYTES

@dataclass
class Plan:
    """What one sandbox needs, as plain data the grader sends to the zygote."""

    binds: list[str]  # host folders shown read-only at the same path (Python, venv, view)
    masks: list[str]  # folders hidden under an empty mount (installed course packages)
    tmp_bytes: int
    memory_bytes: int
    max_processes: int
    max_file_bytes: int
    cpu_seconds: float
    skip: list[str] = field(default_factory=list)
    file_names: list[str] = field(default_factory=list)  # one descriptor each, in this order
    max_files_bytes: int = 64 * 1024**2  # for the student's files
    n_course_files: int = 0  # the first file names are the course's own: no byte budget but the tmpfs's

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return cls(**data)


@dataclass
class Context:
    """The state one sandbox's steps share, from the supervisor into its first process."""

    plan: Plan
    file_fds: list[int] = field(default_factory=list)
    euid: int = field(default_factory=os.geteuid)
    egid: int = field(default_factory=os.getegid)
    cgroups: dict[str, str] = field(default_factory=dict)  # controller -> the supervisor's group
    processes_before: int = 0
    sources: dict[str, int] = field(default_factory=dict)  # host path -> O_PATH descriptor
    root: str = ""  # the staged root while it is assembled; "" once it is "/"
    private_tmp: bool = False
    workdir: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    name: str  # what result.json's ``isolation`` says when it took effect; "" for plumbing
    phase: Literal["outer", "inner"]
    run: Callable[[Context], bool | None]


# --- outer steps: in the supervisor, before it forks the notebook's first process ----------

def _make_group(group: str) -> None:
    try:
        os.mkdir(group)
    except FileExistsError:
        # An earlier supervisor of this pid died before removing it (its worker was killed):
        # it is dead, so the group and any process still in it go.
        remove_cgroup(group)
        os.mkdir(group)


def _join_cgroup(ctx: Context, controller: str, knobs: tuple[str, ...],
                 value: str | None = None) -> str | None:
    """Make and join the supervisor's group of ``controller`` (under cgroup v2 one folder,
    made by the first of these steps, serves every controller) and set the first of its
    files ``knobs`` it has to ``value``; the group, or None when the system has no such."""
    group = new_cgroup(controller, os.getpid())
    if group is None:
        return None
    shared = group in ctx.cgroups.values()
    if not shared:
        _make_group(group)
    knob = next((f"{group}/{n}" for n in knobs if os.path.exists(f"{group}/{n}")), None)
    if knob is None:
        if not shared:
            os.rmdir(group)
        return None
    if value is not None:
        with open(knob, "w") as fh:
            fh.write(value)
    if not shared:
        with open(f"{group}/cgroup.procs", "w") as fh:
            fh.write("0")
    ctx.cgroups[controller] = group
    return group


def _join_pids_cgroup(ctx: Context) -> bool:
    """Root is exempt from RLIMIT_NPROC: a fork bomb is capped by the pids controller."""
    return _join_cgroup(ctx, "pids", ("pids.max",), str(ctx.plan.max_processes + 2)) is not None


def _join_memory_cgroup(ctx: Context) -> bool:
    """RLIMIT_AS caps each process's address space; the memory controller caps what all the
    sandbox's processes hold together, its tmpfs pages included, so that many processes
    under their own limits cannot take the machine's memory from the other sandboxes."""
    limit = str(memory_cap(ctx.plan.memory_bytes, ctx.plan.tmp_bytes))
    group = _join_cgroup(ctx, "memory", ("memory.max", "memory.limit_in_bytes"), limit)
    if group is None:
        return False
    for swap, value in (("memory.swap.max", "0"), ("memory.memsw.limit_in_bytes", limit)):
        if os.path.exists(f"{group}/{swap}"):  # no swapping past the cap, where it is counted
            try:
                with open(f"{group}/{swap}", "w") as fh:
                    fh.write(value)
            except OSError:
                pass
    return True


def _join_cpu_cgroup(ctx: Context) -> bool:
    """Every sandbox gets the same share of the CPU however many processes it runs, so a
    submission that busies many cores cannot push a neighbour's cells past their timeout."""
    return _join_cgroup(ctx, "cpu", ("cpu.weight", "cpu.shares")) is not None


def _user_namespace(ctx: Context) -> bool | None:
    if ctx.euid == 0:
        return None  # root makes the other namespaces itself
    ctx.processes_before = processes_of_user(ctx.euid)
    unshare(CLONE_NEWUSER)
    for name, text in (("setgroups", "deny"), ("uid_map", f"{ctx.euid} {ctx.euid} 1"),
                       ("gid_map", f"{ctx.egid} {ctx.egid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)
    return True


def _mount_namespace(ctx: Context) -> bool:
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    return True


def _network_namespace(ctx: Context) -> bool:
    unshare(CLONE_NEWNET)  # a new namespace has only a loopback interface, and it is down
    return True


def _ipc_namespace(ctx: Context) -> bool:
    unshare(CLONE_NEWIPC)  # SysV shared memory and message queues of the machine are gone
    return True


def _pid_namespace(ctx: Context) -> bool:
    unshare(CLONE_NEWPID)  # the next child is PID 1: when it ends, every process in it ends
    return True


# --- inner steps: in the notebook's first process (PID 1), before any student code -----------

def _open_sources(ctx: Context) -> bool | None:
    """Hold every bind source open before anything is mounted over the paths leading to it."""
    wanted = [*SYSTEM_DIRS, *(f"/etc/{n}" for n in ETC_FILES), *(f"/dev/{d}" for d in DEVICES),
              "/tmp", *ctx.plan.binds]
    for path in wanted:
        if os.path.islink(path) and path in SYSTEM_DIRS:
            continue  # /lib -> usr/lib: copied as a link
        try:
            ctx.sources[path] = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
    return None


def _bind(ctx: Context, path: str, target: str, *, recursive: bool = True) -> None:
    fd = ctx.sources.get(path)
    if fd is None:
        raise FileNotFoundError(path)
    if os.path.isdir(f"/proc/self/fd/{fd}"):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644))
    mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | (MS_REC if recursive else 0))


def _own_mount_namespace(ctx: Context) -> bool:
    """Pivoting moves every process of the namespace whose root is the old one: not the supervisor."""
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    return True


def _stage_root(ctx: Context) -> bool:
    mount("tmpfs", STAGING, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    ctx.root = STAGING
    return True


def _private_tmp(ctx: Context) -> bool:
    target = ctx.root + "/tmp"
    os.makedirs(target, exist_ok=True)
    mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV,
          f"size={ctx.plan.tmp_bytes},mode=1777")
    os.mkdir(ctx.root + TMP_WORKDIR, 0o755)
    ctx.private_tmp, ctx.workdir = True, TMP_WORKDIR
    if not ctx.root:  # on the machine's own tree: what Python needs under /tmp is shown again
        for path in sorted(ctx.plan.binds, key=len):
            if path.startswith("/tmp/") and os.path.exists(f"/proc/self/fd/{ctx.sources.get(path, -1)}"):
                _bind(ctx, path, path)
    return True


def _populate_root(ctx: Context) -> bool | None:
    if not ctx.root:
        return False
    root = ctx.root
    if not ctx.private_tmp:
        # Without "private /tmp": the machine's /tmp, as before (not the root staged on it).
        _bind(ctx, "/tmp", root + "/tmp", recursive=False)
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            os.symlink(os.readlink(path), root + path)
        elif path in ctx.sources:
            _bind(ctx, path, root + path)
    for name in ETC_FILES:
        if f"/etc/{name}" in ctx.sources:
            _bind(ctx, f"/etc/{name}", f"{root}/etc/{name}")
    shown: list[str] = [p for p in SYSTEM_DIRS if p in ctx.sources]
    for path in sorted(ctx.plan.binds, key=len):
        if any(path == s or path.startswith(s.rstrip("/") + "/") for s in shown):
            continue  # already visible inside a folder bound before it: never mkdir through a bind
        _bind(ctx, path, root + path)
        shown.append(path)
    os.makedirs(root + "/proc", exist_ok=True)
    os.makedirs(root + "/dev", exist_ok=True)
    os.chmod(root, 0o755)
    return True


def _mask_course_packages(ctx: Context) -> bool:
    for path in ctx.plan.masks:
        target = ctx.root + path
        if os.path.isdir(target):
            mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "size=4k,mode=0555")
    return True


def _minimal_dev(ctx: Context) -> bool:
    dev = ctx.root + "/dev"
    os.makedirs(dev, exist_ok=True)
    mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755")
    for name in DEVICES:
        if f"/dev/{name}" in ctx.sources:
            _bind(ctx, f"/dev/{name}", f"{dev}/{name}")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")
    os.mkdir(f"{dev}/shm")
    mount("tmpfs", f"{dev}/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
          f"size={SHM_BYTES},mode=1777")
    return True


def _fresh_proc(ctx: Context) -> bool:
    target = ctx.root + "/proc"
    os.makedirs(target, exist_ok=True)
    mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in PROC_READ_ONLY:
        path = f"{target}/{name}"
        if os.path.exists(path):
            mount(path, path, None, MS_BIND | MS_REC)
            remount_read_only(path, flags_of(path))
    return True


def _read_only(ctx: Context) -> bool:
    """Every mount the sandbox sees becomes read-only, except its /tmp, /dev/shm and /proc.

    Only those mount points themselves stay writable: the venv or the view bound inside
    the private /tmp (when they live under /tmp on the machine) become read-only too.
    With a staged root, its mounts are those descending from it (the machine's mounts
    under the staging folder are hidden beneath it, not part of the sandbox).
    """
    keep = {ctx.root + w for w in WRITABLE}
    proc = ctx.root + "/proc"
    seen = mounts()
    if ctx.root:
        staged = [m for m in seen if m[2] == ctx.root][-1][0]
        inside, grew = {staged}, True
        while grew:
            grew = False
            for mount_id, parent, _, _ in seen:
                if parent in inside and mount_id not in inside:
                    inside.add(mount_id)
                    grew = True
        seen = [m for m in seen if m[0] in inside]
    for _, _, point, flags in seen:
        if point in keep or point.startswith(proc + "/") or flags & MS_RDONLY:
            continue
        try:
            remount_read_only(point, flags)
        except FileNotFoundError:
            if ctx.root:
                raise  # on the machine's own tree, mounts hidden under others cannot be reached
    return True


def _pivot(ctx: Context) -> bool | None:
    if not ctx.root:
        return False
    pivot_root(ctx.root)
    ctx.root = ""
    return True


def _close_sources(ctx: Context) -> bool | None:
    for fd in ctx.sources.values():
        os.close(fd)
    ctx.sources.clear()
    return None


def _copy_submission_files(ctx: Context) -> bool | None:
    """The files handed in beside the notebook, from descriptors the grader opened without
    following any symbolic link, into the working folder, before privileges are dropped.

    The course's own files come first (a relative path may name a subfolder) and win: a
    student's file of the same name is not copied, as nbgrader overwrites it."""
    if not ctx.workdir:
        ctx.workdir = tempfile.mkdtemp(prefix="dlf-work-", dir="/tmp")
    budget = ctx.plan.max_files_bytes
    for index, (name, fd) in enumerate(zip(ctx.plan.file_names, ctx.file_fds, strict=True)):
        course = index < ctx.plan.n_course_files
        parts = name.split("/")
        if not name or any(p in ("", ".", "..") for p in parts) or (len(parts) > 1 and not course):
            os.close(fd)
            continue
        try:
            for depth in range(1, len(parts)):
                folder = os.path.join(ctx.workdir, *parts[:depth])
                if not os.path.isdir(folder):
                    os.mkdir(folder, 0o755)
            out = os.open(os.path.join(ctx.workdir, name),
                          os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError:  # the course already put a file or folder there
            os.close(fd)
            continue
        try:
            while budget > 0 or course:
                chunk = os.read(fd, 1 << 20 if course else min(1 << 20, budget))
                if not chunk:
                    break
                if not course:
                    budget -= len(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[os.write(out, view):]
        finally:
            os.close(out)
            os.close(fd)
    ctx.file_fds = []
    return None


def _drop_capabilities(ctx: Context) -> bool:
    """Give up every capability: root stays uid 0 but can no longer mount, trace or override
    file permissions, and the read-only mounts and the pids cgroup cannot be lifted."""
    drop_capabilities()
    return True


def _no_new_privileges(ctx: Context) -> bool:
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    return True


def _rlimit(which: int, value: int, hard: int | None = None) -> bool:
    resource.setrlimit(which, (value, value if hard is None else hard))
    return True


def _memory_limit(ctx: Context) -> bool:
    with open("/proc/self/statm") as fh:  # the address-space limit is added to what is mapped
        mapped = int(fh.read().split()[0]) * resource.getpagesize()
    return _rlimit(resource.RLIMIT_AS, mapped + ctx.plan.memory_bytes)


def _process_limit(ctx: Context) -> bool | None:
    if ctx.euid == 0:
        return None  # the kernel ignores RLIMIT_NPROC for root: the pids cgroup caps root
    # The count spans the user's processes on the machine: what runs now plus the budget.
    return _rlimit(resource.RLIMIT_NPROC, ctx.processes_before + ctx.plan.max_processes)


def _file_size_limit(ctx: Context) -> bool:
    return _rlimit(resource.RLIMIT_FSIZE, ctx.plan.max_file_bytes)


def _cpu_time_limit(ctx: Context) -> bool:
    # SIGXCPU at the soft limit says why; SIGKILL a second later if it is ignored.
    seconds = max(1, int(ctx.plan.cpu_seconds + 0.999))
    return _rlimit(resource.RLIMIT_CPU, seconds, seconds + 1)


def _no_core_dumps(ctx: Context) -> bool:
    return _rlimit(resource.RLIMIT_CORE, 0)


STEPS: tuple[Step, ...] = (
    Step("process cap (cgroup)", "outer", _join_pids_cgroup),
    Step("memory cap (cgroup)", "outer", _join_memory_cgroup),
    Step("cpu share (cgroup)", "outer", _join_cpu_cgroup),
    Step("user namespace", "outer", _user_namespace),
    Step("mount namespace", "outer", _mount_namespace),
    Step("no network", "outer", _network_namespace),
    Step("ipc namespace", "outer", _ipc_namespace),
    Step("pid namespace", "outer", _pid_namespace),
    Step("allow-list root", "inner", _own_mount_namespace),
    Step("", "inner", _open_sources),  # after it: sources must be mounts of this namespace
    Step("allow-list root", "inner", _stage_root),
    Step("private /tmp", "inner", _private_tmp),
    Step("allow-list root", "inner", _populate_root),
    Step("no installed course packages", "inner", _mask_course_packages),
    Step("minimal /dev", "inner", _minimal_dev),
    Step("fresh /proc", "inner", _fresh_proc),
    Step("read-only", "inner", _read_only),
    Step("allow-list root", "inner", _pivot),
    Step("", "inner", _close_sources),
    Step("", "inner", _copy_submission_files),
    Step("no capabilities", "inner", _drop_capabilities),
    Step("no new privileges", "inner", _no_new_privileges),
    Step("memory limit", "inner", _memory_limit),
    Step("process limit", "inner", _process_limit),
    Step("file size limit", "inner", _file_size_limit),
    Step("cpu time limit", "inner", _cpu_time_limit),
    Step("no core dumps", "inner", _no_core_dumps),
)
NAMES: tuple[str, ...] = tuple(dict.fromkeys(s.name for s in STEPS if s.name))


def run(phase: Literal["outer", "inner"], ctx: Context) -> tuple[list[str], dict[str, str]]:
    """Run the steps of ``phase`` not in ``ctx.plan.skip``: (names that took effect, failures).

    A name that appears in several steps took effect when each of its parts did.
    """
    took: dict[str, bool] = {}
    failed: dict[str, str] = {}
    for step in STEPS:
        if step.phase != phase or (step.name and step.name in ctx.plan.skip):
            continue
        if step.name and step.name in failed:
            continue  # an earlier part of this step failed: do not build on it
        try:
            outcome = step.run(ctx)
        except Exception as exc:
            if not step.name:
                raise
            failed[step.name] = f"{type(exc).__name__}: {exc}"
            took.pop(step.name, None)
            continue
        if step.name and outcome is False:
            failed[step.name] = "not available here"
            took.pop(step.name, None)
        elif step.name and outcome:
            took[step.name] = True
    return [n for n in took if n not in failed], failed
