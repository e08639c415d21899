"""``nbgrader generate_feedback`` with the course's config: the same redaction as ``dlf feedback``.

``course/nbgrader_config.py`` calls ``configure(c)``, which adds two nbconvert
preprocessors to nbgrader's feedback pipeline and points it at a template whose only
change is a local MathJax:

- ``RedactHiddenTests`` removes the hidden block of every test cell, replaces the cell's
  outputs (tracebacks quote hidden calls; the kernel prints hidden verdicts) with what
  ``autograder.instructor.redact`` allows, and withholds the outputs of cells that ran
  after the first hidden check;
- ``LocalMathJax`` writes MathJax beside the page (``mathjax/``), where the template and
  ``HTMLExporter.mathjax_url`` load it from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode, v4
from traitlets import Bool

from autograder.instructor import mathjax
from autograder.instructor.redact import (
    OUTPUTS_WITHHELD,
    first_hidden_test,
    lines_from_outputs,
    visible_source,
)
from autograder.nb.course import check_calls, is_test

TEMPLATES = Path(__file__).parent / "templates"


def _catalogue(source: str) -> list[str]:
    """Names of the mistakes the cell's checks know, to name one a hidden check recognised."""
    from autograder.checks.diagnose import GENERIC
    from autograder.specs import registry

    names = [g[0] for g in GENERIC]
    try:
        for call in check_calls(source):
            for mistake in getattr(registry.get(call.check_id), "mistakes", ()):
                names.append(mistake[1] if isinstance(mistake, tuple) else mistake.name)
    except Exception:  # an unknown check or another course: name no mistake rather than fail
        pass
    return names


class RedactHiddenTests(Preprocessor):
    """What a student may see of an autograded notebook; see ``autograder.instructor.redact``."""

    enabled = Bool(True).tag(config=True)  # nbconvert skips a preprocessor that is not enabled

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        cut = first_hidden_test(nb.cells)
        withheld = False
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if is_test(cell):
                lines = lines_from_outputs(cell, mistake_catalogue=_catalogue(cell.source))
                cell.source = visible_source(cell.source)
                text = "\n".join(line.text for line in lines) + "\n"
                cell.outputs = [v4.new_output("stream", name="stdout", text=text)]
            elif cut is not None and index > cut and cell.get("outputs"):
                cell.outputs = [] if withheld else [v4.new_output("stream", name="stdout",
                                                                  text=OUTPUTS_WITHHELD + "\n")]
                withheld = True
        return nb, resources


class LocalMathJax(Preprocessor):
    """Ship MathJax with the page: nbconvert's writer puts ``resources['outputs']`` beside it."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        outputs = resources.setdefault("outputs", {})
        for rel, data in _mathjax_bytes().items():
            outputs[f"{mathjax.FOLDER}/{rel}"] = data
        resources["mathjax_url"] = mathjax.URL
        return nb, resources


def _mathjax_bytes() -> dict[str, bytes]:
    return {rel: path.read_bytes() for rel, path in mathjax.files().items()}


def configure(c: Any) -> None:
    """Wire the course's nbgrader config: redacted feedback, MathJax served from the page's folder."""
    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "autograder.instructor.nbgrader_feedback.RedactHiddenTests",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
        "autograder.instructor.nbgrader_feedback.LocalMathJax",
    ]
    import nbgrader

    formgrader = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    c.GenerateFeedback.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), str(formgrader / "templates")]
    # what nbgrader sets itself (bootstrap's css), and the root our template extends nbgrader's from
    c.GenerateFeedback.HTMLExporter.extra_template_paths = [
        str(formgrader / "static" / "node_modules" / "bootstrap" / "dist" / "css"), str(formgrader / "templates")]
    c.GenerateFeedback.HTMLExporter.template_name = "dlf_feedback"
    c.HTMLExporter.mathjax_url = mathjax.URL
