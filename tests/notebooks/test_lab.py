"""What a person sees in JupyterLab: notebooks run in exactly the kernels ``./run lab`` starts.

Notebook 2 draws every figure inline; the first run of each blank release shows only the
checks' own "not implemented yet" / "no answer yet" messages and one-line waits of the
demo cells, never a traceback of another error; and in headless Chromium, JupyterLab
started as ``./run lab`` starts it shows notebook 1's figures and typeset maths.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograder.checks import judge
from autograder.nb.course import ROOT, Assignment, assignments
from tests.browser import Browser, find_chromium, require_browser
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = find_chromium()
    if executable is None:
        if require_browser():
            pytest.fail("Chromium is missing, and DLF_REQUIRE_BROWSER=1 (CI installs it: "
                        "apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium); the JupyterLab "
                    "browser test needs it")
    with Browser(executable) as b:
        yield b


def _wait(browser: Browser, expression: str, what: str, timeout: float = 45) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = browser.evaluate(expression)
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"JupyterLab: {what} within {timeout:g} s")


# The notebook's panel in the main area (the shell's current widget follows focus, which a
# headless page may not have).
PANEL = "window.jupyterapp && [...window.jupyterapp.shell.widgets('main')].find(w => w.sessionContext)"
ALL_RUN = """(() => {
  const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .map(p => p.textContent);
  return prompts.length === %d && prompts.every(t => /\\[\\d+\\]/.test(t));
})()"""
RAW_TEX = """[...document.querySelectorAll('.jp-RenderedMarkdown')]
  .some(e => /\\$[^$\\s][^$]*\\$|\\\\mathbf|\\\\frac/.test(e.innerText))"""


def test_a_person_sees_figures_and_maths_in_jupyterlab(browser: Browser, tmp_path: Path) -> None:
    """JupyterLab as ./run lab starts it, notebook 1 run in the browser: inline figures
    (images from the kernel's inline backend) and maths rendered by MathJax, not raw $…$."""
    source = next(a for a in assignments() if a.number == "01").source
    served = tmp_path / "notebooks"
    (served / source.parent.name).mkdir(parents=True)
    shutil.copy(source, served / source.parent.name / source.name)
    nb = nbformat.read(str(source), as_version=4)
    n_code = sum(1 for c in nb.cells if c.cell_type == "code")
    n_drawing = sum(1 for c in nb.cells if c.cell_type == "code" and DRAWS.search(c.source))
    started = time.monotonic()
    with lab.jupyterlab(served, tmp_path / "lab") as url:
        browser.send("Page.enable")
        browser.send("Page.navigate", url=url.format(path=f"{source.parent.name}/{source.name}"))
        _wait(browser, f"({PANEL}) && ({PANEL}).sessionContext.isReady && "
              f"({PANEL}).sessionContext.session.kernel.status === 'idle'",
              "the notebook opens with an idle kernel")
        browser.evaluate(f"(() => {{ window.jupyterapp.shell.activateById(({PANEL}).id); "
                         "return window.jupyterapp.commands.execute('notebook:run-all-cells'); })()",
                         wait=True)
        _wait(browser, ALL_RUN % n_code, f"all {n_code} code cells run")
        images = browser.count(".jp-OutputArea-output img")
        maths = browser.count(".jp-RenderedMarkdown mjx-container")
        raw = browser.evaluate(RAW_TEX)
        kernel = browser.evaluate(f"({PANEL}).sessionContext.kernelDisplayName")
        errors = browser.count(".jp-OutputArea-output[data-mime-type="
                               "'application/vnd.jupyter.stderr']")
        browser.screenshot(tmp_path / "jupyterlab.png")
    assert images >= n_drawing, f"{images} inline figures for {n_drawing} drawing cells"
    assert maths > 20 and not raw, f"{maths} typeset formulas; raw TeX left: {raw}"
    assert "course student build" in kernel, "the kernel of ./run lab, with the notebook's build"
    assert errors == 0
    assert time.monotonic() - started < 60
