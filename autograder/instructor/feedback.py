"""``dlf feedback``: one HTML page per student and assignment.

The page shows the score, each graded item with what its checks said, and the
student's notebook as it ran. Test cells appear with their hidden part removed: the
source of hidden tests never leaves the instructor's copy.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat

from autograder.grading import NotebookResult
from autograder.instructor.workspace import Workspace
from autograder.nb.course import is_test, nbgrader_meta

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.DOTALL)

STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left}
.pass{color:#17692b}.fail{color:#a4161a}.manual{color:#8a5a00}
pre{background:#f6f6f6;padding:.6rem;overflow-x:auto;white-space:pre-wrap}
.cell{margin:1rem 0}.test pre{background:#eef3fb}.out pre{background:#fff;border-left:3px solid #ccc}
"""


def strip_hidden(source: str) -> str:
    return HIDDEN.sub("", source)


def render(result: NotebookResult, notebook: nbformat.NotebookNode | None) -> str:
    e = html.escape
    rows = []
    for item in result.items:
        if item.points is None:
            status, cls = "waits for your instructor", "manual"
        elif item.points == item.max_points:
            status, cls = "passed", "pass"
        else:
            status, cls = "not yet", "fail"
        points = "–" if item.points is None else f"{item.points:g}"
        detail = "\n".join(item.messages)
        rows.append(f"<tr><td>{e(item.grade_id)}</td><td class={cls}>{status}</td>"
                    f"<td>{points} / {item.max_points:g}</td>"
                    f"<td><pre>{e(detail)}</pre></td></tr>")
    problems = "".join(f"<li>{e(p)}</li>" for p in result.problems)
    cells = []
    for cell in (notebook.cells if notebook is not None else []):
        if cell.cell_type == "markdown":
            cells.append(f"<div class=cell><pre>{e(cell.source)}</pre></div>")
            continue
        if cell.cell_type != "code":
            continue
        source = strip_hidden(cell.source) if is_test(cell) else cell.source
        kind = "cell test" if is_test(cell) else "cell"
        label = f"<b>{e(nbgrader_meta(cell).get('grade_id', ''))}</b>" if is_test(cell) else ""
        outs = []
        for out in cell.get("outputs", []):
            text = out.get("text") or (f"{out.get('ename')}: {out.get('evalue')}"
                                       if out.get("output_type") == "error" else "")
            if text:
                outs.append(f"<div class=out><pre>{e(str(text)[-4000:])}</pre></div>")
        cells.append(f"<div class='{kind}'>{label}<pre>{e(source)}</pre>{''.join(outs)}</div>")
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{e(result.assignment)}: "
            f"{e(result.student)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{e(result.assignment)}</h1><p>{e(result.student)}: <b>{result.score:g} / "
            f"{result.max_score:g}</b> points so far</p>"
            + (f"<h2>Problems while running your notebook</h2><ul>{problems}</ul>" if problems else "")
            + f"<h2>Graded items</h2><table><tr><th>item</th><th>status</th><th>points</th>"
            f"<th>what the checks said</th></tr>{''.join(rows)}</table>"
            f"<h2>Your notebook as it ran</h2>{''.join(cells)}</body></html>")


def write_feedback(ws: Workspace, results: list[NotebookResult]) -> list[Path]:
    paths = []
    for result in results:
        executed = ws.autograded / result.student / result.assignment / f"{result.assignment}.ipynb"
        notebook = nbformat.read(str(executed), as_version=4) if executed.exists() else None
        out = ws.feedback / result.student / result.assignment / f"{result.assignment}.html"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render(result, notebook))
        paths.append(out)
    return paths
