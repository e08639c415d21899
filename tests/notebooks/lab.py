"""The kernels of ``./run lab``, for tests: exactly their environment, driven by nbclient.

``./run env lab`` prints the environment ``./run lab`` starts JupyterLab with (MPLBACKEND
unset, JUPYTER_PATH leading to the kernel spec ``dlf student-build --kernel`` writes under
``build/jupyter``). A notebook is executed with that environment and ``JPY_SESSION_NAME``
set to its path, as Jupyter Server sets it, so the kernel's launcher gives it its notebook's
student build.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
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
