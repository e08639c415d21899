"""``dlf feedback``: one HTML page per student and notebook, from the gradebook.

``feedback/<student>/<assignment>/<notebook>.html``, as nbgrader lays feedback out. The
page shows one points total (the gradebook's, manual grades and late penalty included;
for an assignment of several notebooks, the notebook's and the assignment's), each graded item with its points and what its checks said (hidden checks
redacted by ``autograder.instructor.redact``), the grader's scores and comments on
written answers, and the student's notebook as it ran. Maths renders with a local
MathJax copied beside the page (``autograder.instructor.mathjax``).
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bleach
import nbformat
from nbformat import NotebookNode

from autograder.grading import ItemResult, NotebookResult
from autograder.instructor import mathjax
from autograder.instructor.books import Book, Books, Sheet, StudentRecord, read_books
from autograder.instructor.export import points
from autograder.instructor.grade_all import load_raw
from autograder.instructor.redact import (
    OUTPUTS_WITHHELD,
    Line,
    check_lines,
    first_hidden_test,
    visible_source,
)
from autograder.instructor.workspace import Workspace
from autograder.nb.course import is_answer, is_test, is_written, nbgrader_meta, read
from autograder.nb.headings import item_titles, notebook_title

STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;vertical-align:top}
.pass{color:#17692b}.fail{color:#a4161a}.manual{color:#8a5a00}.total{font-size:1.3rem}
pre{background:#f6f6f6;padding:.6rem;overflow-x:auto;white-space:pre-wrap;margin:.3rem 0}
.cell{margin:1rem 0}.test pre.src{background:#eef3fb}.out pre{background:#fff;border-left:3px solid #ccc}
.answer{border-left:3px solid #8a5a00;padding-left:.6rem}.note{color:#666;font-style:italic}
.comment{background:#fff8e6;border-left:3px solid #e0a800;padding:.4rem .6rem;margin:.3rem 0}
"""

_TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5",
         "h6", "hr", "i", "img", "li", "ol", "p", "pre", "span", "strong", "sub", "sup", "table", "tbody",
         "td", "th", "thead", "tr", "ul"}
_ATTRS = {"*": ["class", "id"], "a": ["href", "title"], "img": ["src", "alt", "title"]}


@dataclass
class FeedbackSummary:
    pages: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # results with no gradebook row

    def render(self, ws: Workspace) -> str:
        lines = [f"wrote {len(self.pages)} feedback pages under {ws.feedback}"]
        lines += [f"  skipped {m}" for m in self.missing]
        return "\n".join(lines)


@functools.lru_cache(maxsize=4096)
def markdown(source: str) -> str:
    """Markdown to HTML with maths kept for MathJax and no raw HTML, script or handler."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return bleach.clean(markdown2html_mistune(source), tags=_TAGS, attributes=_ATTRS,
                        protocols={"http", "https", "mailto", "data"}, strip=True)


def _status(points_: float | None, max_points: float) -> tuple[str, str]:
    if points_ is None:
        return "waits for your instructor", "manual"
    if points_ >= max_points:
        return "full marks", "pass"
    return "not yet", "fail"


def _lines_html(lines: list[Line]) -> str:
    e = html.escape
    out = []
    for line in lines:
        cls = "pass" if line.ok else ("fail" if line.ok is False else "note")
        out.append(f"<pre class={cls}>{e(line.text)}</pre>")
    return "".join(out)


def _item_row(title: str, gid: str, cell: NotebookNode, item: ItemResult | None, sheet: Sheet,
              comments: dict[str, str]) -> str:
    e = html.escape
    grade = sheet.cells.get(gid)
    max_points = grade.max_points if grade else (item.max_points if item else 0.0)
    score = None if grade is None or grade.waits_for_grader else grade.score
    status, cls = _status(score, max_points)
    detail = ""
    if is_written(cell):
        if grade is not None and grade.manual is not None:
            status, cls = "graded by your instructor", ("pass" if score and score >= max_points else "manual")
        elif grade is not None and not grade.waits_for_grader and item is not None and item.points == 0:
            detail = "<pre class=note>no answer written: 0 points</pre>"
    elif item is not None:
        if grade is not None and grade.manual is not None and grade.manual != grade.auto:
            detail = f"<pre class=note>your instructor set this item to {points(grade.manual)} points</pre>"
        detail += _lines_html(check_lines(cell, item))
    comment = comments.get(gid)
    if comment:
        detail += f"<div class=comment>{e(comment)}</div>"
    shown = "–" if score is None else points(score)
    return (f"<tr><td>{e(title)}<br><small>{e(gid)}</small></td><td class={cls}>{e(status)}</td>"
            f"<td>{shown} / {points(max_points)}</td><td>{detail}</td></tr>")


def _output_html(out: dict[str, Any]) -> str:
    e = html.escape
    kind = out.get("output_type")
    if kind == "stream":
        return f"<div class=out><pre>{e(str(out.get('text', ''))[-4000:])}</pre></div>"
    if kind == "error":
        return f"<div class=out><pre class=fail>{e(str(out.get('ename')))}: {e(str(out.get('evalue'))[:2000])}</pre></div>"
    data = out.get("data", {})
    if "image/png" in data:
        png = "".join(ch for ch in str(data["image/png"]) if ch.isalnum() or ch in "+/=")
        return f'<div class=out><img alt="a plot" src="data:image/png;base64,{e(png)}"></div>'
    if "text/plain" in data:
        return f"<div class=out><pre>{e(str(data['text/plain'])[-4000:])}</pre></div>"
    return ""


def render(result: NotebookResult, book: Book, student: StudentRecord, source: NotebookNode,
           executed: NotebookNode | None, *, flags: list[str], mathjax_url: str = mathjax.URL) -> str:
    e = html.escape
    titles = item_titles(source)
    items = {i.grade_id: i for i in result.items}
    sheet = book.sheets.get(result.name) or Sheet(result.name, "")
    comments = dict(sheet.manual_comments)
    graded = [c for c in source.cells if is_test(c) or is_written(c)]
    # a grader's comment on an answer cell is shown beside the item that tests that answer
    owner: dict[str, str] = {}
    current = ""
    for cell in source.cells:
        gid = str(nbgrader_meta(cell).get("grade_id", ""))
        if is_answer(cell) or is_written(cell):
            current = gid
        if (is_test(cell) or is_written(cell)) and current in comments and current not in owner.values():
            owner[gid] = current
    shown_comments = {gid: comments[ans] for gid, ans in owner.items()}
    rows = "".join(_item_row(titles.get(nbgrader_meta(c)["grade_id"], ""), nbgrader_meta(c)["grade_id"], c,
                             items.get(nbgrader_meta(c)["grade_id"]), sheet, shown_comments) for c in graded)
    waiting = len(sheet.waiting)
    penalty = (f" (after a late penalty of {points(book.late_penalty)})" if book.late_penalty else "")
    where = e(result.assignment) if result.name == result.assignment else f"{e(result.assignment)} · {e(result.name)}"
    head = [f"<h1>{e(notebook_title(source) or result.name)}</h1>",
            f"<p>{e(student.name)}{f' <small>({e(student.id)})</small>' if student.name != student.id else ''}"
            f" · {where}</p>"]
    if len(book.sheets) > 1:
        head.append(f"<p class=total>This notebook: <b>{points(sheet.score)} / {points(sheet.max_score)}</b> "
                    f"points · the assignment's total: <b>{points(book.score)} / {points(book.max_score)}</b>"
                    f" points{penalty}</p>")
    else:
        head.append(f"<p class=total>Total: <b>{points(book.score)} / {points(book.max_score)}</b> "
                    f"points{penalty}</p>")
    if waiting:
        head.append(f"<p class=manual>{waiting} written answer{'s' if waiting > 1 else ''} still wait for "
                    "your instructor; the total grows if they earn points.</p>")
    if result.problems:
        head.append("<h2>Problems while running your notebook</h2><ul>"
                    + "".join(f"<li>{e(p)}</li>" for p in result.problems) + "</ul>")
    if flags:
        head.append("<h2>Flagged for your instructor</h2><ul>"
                    + "".join(f"<li>{e(f)}</li>" for f in flags) + "</ul>")
    body = (f"<h2>Graded items</h2><table><tr><th>item</th><th>status</th><th>points</th>"
            f"<th>what the checks and your instructor said</th></tr>{rows}</table>"
            f"<h2>Your notebook as it ran</h2>{_cells_html(source, executed, items)}")
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{e(result.name)}: "
            f"{e(student.name)}</title><style>{STYLE}</style>{mathjax.script(mathjax_url)}</head><body>"
            + "".join(head) + body + "</body></html>")


def _cells_html(source: NotebookNode, executed: NotebookNode | None, items: dict[str, ItemResult]) -> str:
    e = html.escape
    if executed is None:
        return "<p class=note>The notebook could not be run.</p>"
    tests = {nbgrader_meta(c)["grade_id"]: c for c in source.cells if is_test(c)}
    cut = first_hidden_test(executed.cells)
    out = []
    withheld = False
    for index, cell in enumerate(executed.cells):
        gid = str(nbgrader_meta(cell).get("grade_id", ""))
        if cell.cell_type == "markdown":
            cls = "cell answer" if is_written(cell) else "cell"
            out.append(f"<div class='{cls}'>{markdown(cell.source)}</div>")
            continue
        if cell.cell_type != "code":
            continue
        if is_test(cell) and gid in tests:
            src = tests[gid]
            lines = check_lines(src, items[gid]) if gid in items else []
            out.append(f"<div class='cell test' id='{e(gid)}'><b>{e(gid)}</b>"
                       f"<pre class=src>{e(visible_source(src.source))}</pre>{_lines_html(lines)}</div>")
            continue
        cls = "cell answer" if is_answer(cell) else "cell"
        outputs = ""
        if cut is None or index < cut:
            outputs = "".join(_output_html(o) for o in cell.get("outputs", []))
        elif cell.get("outputs") and not withheld:
            outputs, withheld = f"<p class=note>{e(OUTPUTS_WITHHELD)}</p>", True
        out.append(f"<div class='{cls}'><pre>{e(cell.source)}</pre>{outputs}</div>")
    return "".join(out)


def write_feedback(ws: Workspace, *, books: Books | None = None) -> FeedbackSummary:
    """A page for every graded notebook the gradebook knows, ``feedback/<student>/<assignment>/<notebook>.html``."""
    ws.require()
    books = books or read_books(ws)
    raw = load_raw(ws)
    summary = FeedbackSummary()
    sources: dict[tuple[str, str], NotebookNode] = {}
    for (student, assignment, notebook), data in sorted(raw.items()):
        label = f"{student}/{assignment}" + (f"/{notebook}" if notebook != assignment else "")
        book = books.get(student, assignment)
        if book is None or notebook not in book.sheets:
            summary.missing.append(f"{label}: the gradebook has no row for it (run dlf grade)")
            continue
        try:
            result = NotebookResult.from_dict(data)
            if (assignment, notebook) not in sources:
                sources[(assignment, notebook)] = read(ws.assignment(assignment).source_of(notebook))
        except (KeyError, TypeError, ValueError, OSError) as exc:
            summary.missing.append(f"{label}: {exc}")
            continue
        executed_path = ws.autograded / student / assignment / f"{notebook}.ipynb"
        try:
            executed = nbformat.read(str(executed_path), as_version=4) if executed_path.exists() else None
        except Exception:
            executed = None
        folder = ws.feedback / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        url = mathjax.install(folder)
        page = render(result, book, books.students[student], sources[(assignment, notebook)], executed,
                      flags=[str(f) for f in data.get("flags", [])], mathjax_url=url)
        out = folder / f"{notebook}.html"
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(out)
        summary.pages.append(out)
    return summary
