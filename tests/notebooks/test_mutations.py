"""Mutation catalogues: every plausible wrong answer loses points, every correct variant keeps them.

The checks run in-process against the answer cells; no notebook is re-executed per mutant.
"""

from __future__ import annotations

import pytest

from autograder.nb.course import assignments
from autograder.nb.course import check_calls
from autograder.specs import registry
from tests.notebooks.harness import InProcessNotebook, Variant, catalogue

ASSIGNMENTS = assignments()
_notebooks: dict[str, InProcessNotebook] = {}


def _nb(name: str) -> InProcessNotebook:
    if name not in _notebooks:
        _notebooks[name] = InProcessNotebook(next(a for a in ASSIGNMENTS if a.name == name))
    return _notebooks[name]


MUTANTS = [(a.name, v) for a in ASSIGNMENTS for v in catalogue("mutants", a)]
ALTERNATIVES = [(a.name, v) for a in ASSIGNMENTS for v in catalogue("alternatives", a)]


@pytest.mark.parametrize("name", [a.name for a in ASSIGNMENTS])
def test_the_solution_answer_cells_alone_earn_full_marks(name: str) -> None:
    score = _nb(name).score()
    assert score.points == score.max_points, score.failures


@pytest.mark.parametrize("name", [a.name for a in ASSIGNMENTS])
def test_every_answer_cell_has_five_mutants_and_an_alternative(name: str) -> None:
    nb = _nb(name)
    assignment = nb.assignment
    mutants = catalogue("mutants", assignment)
    for cell in nb.answers:
        count = sum(1 for m in mutants if m.cell == cell)
        assert count >= 5, f"answer cell {cell!r} has {count} mutants; at least five are needed"
    assert catalogue("alternatives", assignment), "no correct alternatives"


@pytest.mark.parametrize(("name", "variant"), MUTANTS,
                         ids=[f"{n}:{v.cell}:{v.name}" for n, v in MUTANTS])
def test_mutant_loses_points(name: str, variant: Variant) -> None:
    score = _nb(name).score(variant, stop_at_first_failure=True)
    assert score.points < score.max_points, f"mutant {variant.name!r} keeps full marks"


@pytest.mark.parametrize(("name", "variant"), ALTERNATIVES,
                         ids=[f"{n}:{v.cell}:{v.name}" for n, v in ALTERNATIVES])
def test_correct_alternative_keeps_full_marks(name: str, variant: Variant) -> None:
    nb = _nb(name)
    score = nb.score(variant, only=nb.affected_tests(variant.cell))
    assert score.points == score.max_points, score.failures


WARNED = [(a.name, v) for a in ASSIGNMENTS for v in catalogue("mutants", a) if v.warned]


def test_the_catalogues_hold_the_mistakes_the_notebooks_warn_about() -> None:
    per_notebook = {a.name: sum(1 for n, _ in WARNED if n == a.name) for a in ASSIGNMENTS}
    assert all(per_notebook.values()), f"notebooks without a warned mistake: {per_notebook}"


@pytest.mark.parametrize(("name", "variant"), WARNED,
                         ids=[f"{n}:{v.cell}:{v.name}" for n, v in WARNED])
def test_a_mistake_the_notebook_warns_about_fails_a_visible_check_that_names_it(
        name: str, variant: Variant) -> None:
    """Judged from the shipped visible data, as the student sees it before handing in; a
    numeric or choice answer is only recorded there (its known wrong values would give the
    right one away), so its warned mistake must be named when the visible check is graded."""
    nb = _nb(name)
    graded = any(registry.get(call.check_id).type in ("value", "choice")
                 for gid, _, src in nb.tests if gid in nb.owned.get(variant.cell, [])
                 for call in check_calls(src))
    failures = nb.visible_failures(variant, graded=graded)
    assert failures, f"{variant.name!r} passes every visible check"
    assert any(variant.warned in f for f in failures), \
        f"no visible check names {variant.warned!r}: {failures}"
