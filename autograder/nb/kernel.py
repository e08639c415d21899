"""A Jupyter kernel that gives each notebook its own student build, for ``./run lab``.

The kernel spec is written under ``build/jupyter``; ``./run lab`` puts that folder first on
``JUPYTER_PATH``, so it replaces the default ``python3`` kernel for the course's notebooks
only. Its launcher reads the notebook's path from ``JPY_SESSION_NAME`` (set by Jupyter
Server), finds the notebook's view, and starts ipykernel with that view as the only course
code on ``sys.path``: at home a notebook sees what its sandbox will see.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from autograder.nb.course import ROOT, assignments
from autograder.nb.views import build_view, python_path

LAUNCHER = '''"""Start ipykernel with the student build of the notebook being opened (dlf, generated)."""
import os
import re
import sys

VIEWS = {views!r}
THIRD_PARTY = {third_party!r}
session = os.environ.get("JPY_SESSION_NAME", "")
match = re.search(r"(?:^|/)(\\d\\d)_[A-Za-z0-9_]+(?:/|\\.ipynb$)", session)
view = VIEWS.get(match.group(1)) if match else None
if view is None:
    sys.stderr.write("dlf: this notebook is not one of the course's (%r); its kernel has no "
                     "course code\\n" % session)
# The kernel draws figures inline: a backend inherited from the shell would hide them.
os.environ.pop("MPLBACKEND", None)
sys.path[:] = [""] + ([view] if view else []) + THIRD_PARTY
from ipykernel import kernelapp

kernelapp.launch_new_instance()
'''


def write_kernelspec(root: Path = ROOT) -> Path:
    """Build every notebook's view and write the kernel spec; returns the JUPYTER_PATH entry."""
    views = {a.number: str(build_view(a, root=root).path) for a in assignments(root)}
    any_view = build_view(assignments(root)[0], root=root)
    third_party = python_path(any_view)[1:]
    target = root / "build" / "jupyter"
    kernel = target / "kernels" / "python3"
    kernel.mkdir(parents=True, exist_ok=True)
    launcher = kernel / "launch.py"
    launcher.write_text(LAUNCHER.format(views=views, third_party=third_party))
    spec = {
        "argv": [sys.executable, "-S", "-E", "-s", str(launcher), "-f", "{connection_file}"],
        "display_name": "Python 3 (course student build)",
        "language": "python",
        "metadata": {"debugger": True},
    }
    (kernel / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return target
