"""What a person sees in JupyterLab: notebooks run in exactly the kernels ``./run lab`` starts.

Notebook 2 draws every figure inline; the first run of each blank release shows only the
checks' own "not implemented yet" / "no answer yet" messages and one-line waits of the
demo cells, never a traceback of another error.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder.checks import judge
from autograder.nb.course import ROOT, Assignment, assignments
from tests.notebooks import lab
from tests.notebooks.test_authoring_rules import DRAWS

pytestmark = pytest.mark.notebooks

WHERE = "import autograder, matplotlib; print(autograder.__file__, matplotlib.get_backend())"


def test_notebook_2_draws_every_figure_inline_in_a_run_lab_kernel(tmp_path: Path) -> None:
    source = next(a for a in assignments() if a.number == "02").source
    nb = nbformat.read(str(source), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(WHERE))
    copy = tmp_path / source.parent.name / source.name  # the kernel finds its build by this name
    copy.parent.mkdir()
    nbformat.write(nb, str(copy))
    ran = lab.execute(copy)
    assert not lab.errors(ran), lab.errors(ran)
    drawing = [c for c in ran.cells if c.cell_type == "code" and DRAWS.search(c.source)]
    assert len(drawing) >= 9
    blank = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in drawing
             if not lab.images(c)]
    assert not blank, f"cells that drew no inline image: {blank}"
    where, backend = ran.cells[-1].outputs[0].text.split()
    assert where.startswith(str(ROOT / "build" / "views" / "02")), where
    assert "inline" in backend, backend


@pytest.mark.parametrize("assignment", assignments(), ids=lambda a: a.name)
def test_a_first_run_of_the_blank_release_shows_only_check_messages_and_one_line_waits(
        assignment: Assignment) -> None:
    ran = lab.execute(assignment.release)
    found = lab.errors(ran)
    assert found, "a blank release fails its checks"
    other = [(gid, name, value[:200]) for gid, name, value, trace in found
             if not (name == "CheckFailed" and judge.is_unanswered(value))
             and not (name == "NotReady" and len(trace) == 1 and "\n" not in trace[0])]
    assert not other, f"errors other than a check's own message or a one-line wait: {other}"
    assert any(name == "NotReady" for _, name, _, _ in found), "the demos wait for their answers"
