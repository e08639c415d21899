"""At home, the same verdict as under the grader: no help from what the sandbox leaves out.

When notebook NN is graded, its sandbox holds only the course modules its own locked
cells need, never those that implement its exercises (``forbidden`` in the notebook's
exercises file). At home every module of the student build is installed, so a check
refuses to pass an answer while any of NN's forbidden modules is loaded: what fails
under the grader fails here too, with the reason.
"""

from __future__ import annotations

import sys

from autograder.checks import exercises


def loaded_forbidden(notebook: str) -> list[str]:
    """The forbidden modules of ``notebook`` that this process has imported."""
    forbidden = exercises.manifest(notebook).get("forbidden", [])
    return sorted(name for name in list(sys.modules)
                  if any(name == f or name.startswith(f + ".") for f in forbidden))


def explain(notebook: str, modules: list[str]) -> str:
    names = ", ".join(modules)
    return (f"this kernel has imported {names}, which implements what notebook {notebook} asks "
            "you to write; it is not available when the notebook is graded, so no check can "
            "pass while it is loaded. Remove the import, restart the kernel and run the "
            "notebook again")
