"""The kernels of ``./run lab``, for tests: exactly their environment, driven by nbclient.

``./run env lab`` prints the environment ``./run lab`` starts JupyterLab with (MPLBACKEND
unset, JUPYTER_PATH leading to the kernel spec ``dlf student-build --kernel`` writes under
``build/jupyter``). A notebook is executed with that environment and ``JPY_SESSION_NAME``
set to its path, as Jupyter Server sets it, so the kernel's launcher gives it its notebook's
student build. ``jupyterlab`` starts JupyterLab itself in that environment, for a browser.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat

from autograder.nb.course import ROOT

_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@functools.cache
def lab_environment() -> dict[str, str]:
    """The environment ``./run lab`` gives JupyterLab and so its kernels (``./run env lab``)."""
    done = subprocess.run([str(ROOT / "run"), "env", "lab"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=True)
    env: dict[str, str] = {}
    last = ""
    for line in done.stdout.splitlines():
        if _VARIABLE.match(line):
            last, _, value = line.partition("=")
            env[last] = value
        elif last:  # a value that spans lines
            env[last] += "\n" + line
    return env


def execute(path: Path, *, timeout: float = 120) -> nbformat.NotebookNode:
    """Run every cell of the notebook at ``path`` in a ``./run lab`` kernel; errors are kept."""
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    env = dict(lab_environment(), JPY_SESSION_NAME=str(path.resolve()))
    specs = KernelSpecManager()
    specs.kernel_dirs = [os.path.join(p, "kernels") for p in env["JUPYTER_PATH"].split(os.pathsep)]
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=timeout,
                            resources={"metadata": {"path": str(path.parent)}})
    client.km = client.create_kernel_manager()
    client.km.kernel_spec_manager = specs  # the spec JupyterLab finds on JUPYTER_PATH
    client.execute(env=env)
    return nb


def errors(nb: nbformat.NotebookNode) -> list[tuple[str, str, str, list[str]]]:
    """(grade id, error name, value, traceback lines) of every error output, in order."""
    return [(c.get("metadata", {}).get("nbgrader", {}).get("grade_id", ""), o.ename, o.evalue,
             list(o.traceback))
            for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.output_type == "error"]


def images(cell: nbformat.NotebookNode) -> int:
    """How many inline images a code cell's outputs hold."""
    return sum(1 for o in cell.get("outputs", []) if "image/png" in o.get("data", {}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def jupyterlab(root_dir: Path, scratch: Path) -> Iterator[str]:
    """JupyterLab as ``./run lab`` starts it (its environment, its kernels), serving
    ``root_dir`` on a free port with a token and settings of its own under ``scratch``;
    yields the base URL with the token. The app is exposed as ``window.jupyterapp``."""
    settings = scratch / "settings" / "@jupyterlab"
    for extension, values in (("notebook-extension/tracker", {"windowingMode": "none"}),
                              ("apputils-extension/notification",
                               {"fetchNews": "false", "checkForUpdates": False})):
        path = settings / f"{extension}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    token, port = secrets.token_hex(16), free_port()
    env = dict(lab_environment(), HOME=str(scratch), JUPYTERLAB_SETTINGS_DIR=str(scratch / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(scratch / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(scratch / "runtime"))
    command = [shutil.which("jupyter", path=env["PATH"]) or "jupyter", "lab", "--no-browser", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root_dir}", "--expose-app-in-browser", "--LabApp.news_url="]
    if os.geteuid() == 0:
        command.append("--allow-root")  # CI containers run as root
    log = (scratch / "jupyterlab.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=1)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start: "
                                       + (scratch / "jupyterlab.log").read_text()[-2000:]) from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/lab/tree/{{path}}?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
