"""The conventions of course/AUTHORING.md that a reader, a screen reader or nbgrader relies on.

Static checks of the solution notebooks: locked explanation and demo cells, a text
description before every figure, LaTeX for the maths of the prose, one notation.
"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from autograder.nb.course import Assignment, is_answer, is_test, is_written, nbgrader_meta, read

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


def _solution_regions(source: str) -> list[tuple[int, int, bool]]:
    """(first line, last line, at the top level?) of each solution region, 1-based."""
    regions, start = [], None
    for number, line in enumerate(source.split("\n"), 1):
        if "### BEGIN SOLUTION" in line:
            start = (number, not line.startswith((" ", "\t")))
        elif "### END SOLUTION" in line and start:
            regions.append((start[0], number, start[1]))
            start = None
    return regions


def _stored(nodes: list[ast.stmt]) -> set[str]:
    names = set()
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.add(sub.id)
            elif isinstance(sub, ast.FunctionDef | ast.ClassDef):
                names.add(sub.name)
    return names


def answer_names(cell: nbformat.NotebookNode) -> set[str]:
    """What the student writes: the functions and classes around a solution region, and the
    names a top-level region assigns."""
    tree = ast.parse(cell.source)
    names: set[str] = set()
    for first, last, top in _solution_regions(cell.source):
        for node in tree.body:
            end = node.end_lineno or node.lineno
            if top and first < node.lineno < last:
                names |= _stored([node])
            elif not top and node.lineno < first < end and isinstance(node, ast.FunctionDef | ast.ClassDef):
                names.add(node.name)
    return names


def _needs_call(source: str) -> list[str] | None:
    """The names of the ``needs(...)`` call a cell starts with, or None."""
    body = ast.parse(source).body
    first = body[0] if body else None
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Call)
            and isinstance(first.value.func, ast.Name) and first.value.func.id == "needs"):
        return [a.value for a in first.value.args if isinstance(a, ast.Constant)]
    return None


def test_every_demo_cell_that_uses_an_answer_starts_by_naming_it_in_needs(
        assignment: Assignment) -> None:
    """A blank or broken answer then stops the cell in one line that names the exercise."""
    written: set[str] = set()
    problems = {}
    for cell in _cells(assignment)[1:]:
        if cell.cell_type != "code":
            continue
        if is_answer(cell):
            written |= answer_names(cell)
            continue
        if is_test(cell):
            continue
        tree = ast.parse(cell.source)
        loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        used = (loaded & written) - _stored(tree.body)
        named = _needs_call(cell.source)
        if used and (named is None or not used <= set(named)):
            problems[nbgrader_meta(cell).get("grade_id")] = sorted(used - set(named or []))
    assert not problems, f"demo cells that use answers without needs(...) naming them: {problems}"


def test_a_top_level_answer_keeps_a_placeholder_for_every_name_its_checks_read(
        assignment: Assignment) -> None:
    """The release's stub there is a comment: the placeholder is what the check then reads."""
    cells = _cells(assignment)
    missing = {}
    for i, cell in enumerate(cells):
        if not is_answer(cell):
            continue
        lines = cell.source.split("\n")
        tops = [first for first, _, top in _solution_regions(cell.source) if top]
        if not tops:
            continue
        before = _stored(ast.parse("\n".join(lines[:tops[0] - 1])).body)
        checked = set()
        for later in cells[i + 1:]:
            if is_answer(later):
                break
            if is_test(later):
                checked |= {n.id for n in ast.walk(ast.parse(later.source)) if isinstance(n, ast.Name)}
        lacking = sorted((answer_names(cell) & checked) - before)
        if lacking:
            missing[nbgrader_meta(cell)["grade_id"]] = lacking
    assert not missing, f"top-level answers without a placeholder (name = None) above the solution: {missing}"
