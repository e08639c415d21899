"""The conventions of course/AUTHORING.md that a reader, a screen reader or nbgrader relies on.

Static checks of the solution notebooks: locked explanation and demo cells, a text
description before every figure, LaTeX for the maths of the prose, one notation.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from autograder.nb.course import Assignment, is_answer, is_written, nbgrader_meta, read

# A code cell that draws: a figure of its own or one of reference_impl.plotting's helpers.
DRAWS = re.compile(r"\b(plt\.(subplots|figure)|plot_[a-z_]+\()")
FIGURE_TEXT = re.compile(r"^\*\*Figures?\.\*\* \S", re.MULTILINE)
# Symbols that mean maths is written in Unicode instead of LaTeX ($...$).
UNICODE_MATHS = re.compile(r"[₀-₉⁰-⁹ᵢⱼₖₙᵗ′ŷ∇←≤≥−·∑Σ‖√⌈⌉⌊⌋∂⊙∞≈∈²³½¼α-ω]")
LATEX_OR_CODE = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`", re.DOTALL)


def _cells(assignment: Assignment) -> list[nbformat.NotebookNode]:
    return list(read(assignment.source).cells)


def _prose(cell: nbformat.NotebookNode) -> str:
    """A markdown cell's text without its maths and code spans."""
    return LATEX_OR_CODE.sub("", cell.source)


def test_every_explanation_and_demo_cell_is_locked(assignment: Assignment) -> None:
    unlocked = [c.get("id") for c in _cells(assignment)
                if not (is_answer(c) or is_written(c)) and not nbgrader_meta(c).get("locked")]
    assert not unlocked, f"cells without locked nbgrader metadata: {unlocked}"


def test_every_figure_is_described_in_the_markdown_just_before_it(assignment: Assignment) -> None:
    cells = _cells(assignment)
    undescribed = [nbgrader_meta(c).get("grade_id") or c.get("id")
                   for i, c in enumerate(cells)
                   if c.cell_type == "code" and not is_answer(c) and DRAWS.search(c.source)
                   and not (i and cells[i - 1].cell_type == "markdown"
                            and FIGURE_TEXT.search(cells[i - 1].source))]
    assert not undescribed, f"figures without a **Figure.** description before them: {undescribed}"


def test_maths_in_markdown_is_latex(assignment: Assignment) -> None:
    found = {}
    for cell in _cells(assignment):
        if cell.cell_type == "markdown":
            hits = sorted(set(UNICODE_MATHS.findall(_prose(cell))))
            if hits:
                found[nbgrader_meta(cell).get("grade_id") or cell.get("id")] = hits
    assert not found, f"Unicode maths outside $...$: {found}"


@pytest.mark.parametrize("pattern,why", [
    (r"\\eta\b", "the learning rate is α"),
    (r"\b[WAZ]_\{?\d|\\mathbf\{[abhwz]\}_\d|\\mathbf\{[az]\}\^\d",
     "a layer is a superscript in brackets: W^{[1]}, not W_1 or z^1"),
])
def test_one_notation_across_the_course(assignment: Assignment, pattern: str, why: str) -> None:
    offending = [nbgrader_meta(c).get("grade_id") or c.get("id") for c in _cells(assignment)
                 if c.cell_type == "markdown" and re.search(pattern, c.source)]
    assert not offending, f"{why}: {offending}"
