"""``dlf report``: the class at a glance, with every total read from the gradebook.

``report/index.html`` holds: a summary per assignment, a table per student, the
submissions that had problems (timeouts, crashes, flags) with their reasons, score
distributions, the items most often failed (named by the notebook's headings), the
mistakes most often named, and the queue of written answers that wait for a grader,
blank answers excluded, each with a link to it in formgrader.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from autograder.instructor import mathjax
from autograder.instructor.books import Books, read_books
from autograder.instructor.export import points
from autograder.instructor.grade_all import load_raw
from autograder.instructor.workspace import Workspace, item_label
from autograder.nb.course import read
from autograder.nb.headings import item_titles

FORMGRADER = "http://localhost:8888"

STYLE = """body{font-family:system-ui,sans-serif;max-width:76rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}
td.num{text-align:right}img{max-width:100%}small{color:#666}.warn{color:#a4161a}"""


@dataclass
class Problem:
    student: str
    assignment: str
    kind: str  # "problem" (timeout, crash, unreadable) or "flag"
    reason: str


@dataclass
class ReportData:
    books: Books
    raw: dict[tuple[str, str, str], dict[str, Any]]
    titles: dict[str, dict[str, str]]  # assignment -> item label (item_label) -> heading
    problems: list[Problem] = field(default_factory=list)


def _collect(ws: Workspace) -> ReportData:
    books = read_books(ws)
    raw = load_raw(ws)
    titles: dict[str, dict[str, str]] = {}
    for name in books.assignments:
        titles[name] = {}
        try:
            known = ws.assignment(name)
        except ValueError:
            continue
        for notebook in known.names:
            try:
                found = item_titles(read(known.source_of(notebook)))
            except (ValueError, OSError):
                continue
            several = len(known.names) > 1
            titles[name].update({item_label(name, notebook, gid): f"{notebook}: {t}" if several else t
                                 for gid, t in found.items()})
    data = ReportData(books, raw, titles)
    for (student, assignment, _), result in sorted(raw.items()):
        for p in result.get("problems", []):
            data.problems.append(Problem(student, assignment, "problem", str(p)))
        for f in result.get("flags", []):
            data.problems.append(Problem(student, assignment, "flag", str(f)))
    return data


def _label(text: str, width: int = 48) -> str:
    text = text if len(text) <= width else text[: width - 1] + "…"
    return text.replace("$", r"\$")  # matplotlib would read $…$ as its own maths


def plot_distributions(data: ReportData, folder: Path) -> list[Path]:
    paths = []
    for name, max_score in data.books.assignments.items():
        group = [b for (s, a), b in data.books.books.items() if a == name]
        if not group:
            continue
        items = list(data.titles.get(name) or [item_label(name, n, g) for n, g, _ in group[0].items()])
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, max(3.6, 0.22 * len(items) + 1.2)),
                                          gridspec_kw={"width_ratios": [1, 2]})
        totals = [100 * b.score / (max_score or 1.0) for b in group]
        left.hist(totals, bins=10, range=(0, 100), color="#3a6ea5", edgecolor="white")
        left.set(title=f"{name}: total score", xlabel="% of points (manual grades included)",
                 ylabel="students")
        rates = []
        for label in items:
            got = [c for b in group for n, g, c in b.items() if item_label(name, n, g) == label]
            rates.append(100 * sum(1 for c in got if c.score >= c.max_points > 0) / max(1, len(got)))
        right.barh(range(len(items)), rates, color="#6a994e")
        right.set_yticks(range(len(items)), [_label(data.titles.get(name, {}).get(i, i)) for i in items],
                         fontsize=7)
        right.invert_yaxis()
        right.set(title="share of students with full marks on each item", xlabel="%", xlim=(0, 100))
        fig.tight_layout()
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths


def _who(name: str, sid: str) -> str:
    e = html.escape
    return e(sid) if name == sid else f"{e(name)}<br><small>{e(sid)}</small>"


def _table(head: list[str], rows: list[list[str]], *, raw_html: bool = False) -> str:
    e = html.escape
    th = "".join(f"<th>{e(h)}</th>" for h in head)
    cell = (lambda c: c) if raw_html else e
    body = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def write_report(ws: Workspace, *, formgrader_url: str = FORMGRADER) -> Path:
    ws.require()
    folder = ws.report
    folder.mkdir(parents=True, exist_ok=True)
    e = html.escape
    data = _collect(ws)
    books = data.books
    images = plot_distributions(data, folder)
    names = list(books.assignments)

    summary = []
    for name in names:
        group = [b for (s, a), b in books.books.items() if a == name]
        mean = sum(b.score for b in group) / len(group) if group else 0.0
        summary.append([e(name), str(len(group)), f"{mean:.1f} / {points(books.assignments[name])}",
                        str(sum(len(b.waiting) for b in group))])

    per_student = []
    for sid, student in books.students.items():
        row = [_who(student.name, sid)]
        total = maximum = 0.0
        for name in names:
            book = books.get(sid, name)
            maximum += books.assignments[name]
            if book is None:
                row.append("<small>no submission</small>")
                continue
            total += book.score
            marks = "".join([" ✎" * bool(book.waiting),
                             " ⚠" * any(p.student == sid and p.assignment == name for p in data.problems)])
            row.append(f"{points(book.score)} / {points(book.max_score)}{marks}")
        row.append(f"<b>{points(total)} / {points(maximum)}</b>")
        per_student.append(row)

    failed: Counter[str] = Counter()
    mistakes: Counter[str] = Counter()
    for (_, name), book in books.books.items():
        for notebook, gid, c in book.items():
            if not c.waits_for_grader and c.score < c.max_points:
                label = item_label(name, notebook, gid)
                failed[f"{name}: {data.titles.get(name, {}).get(label, label)}"] += 1
    for (_, name, _), result in data.raw.items():
        for item in result.get("items", []):
            mistakes.update(f"{name}: {m}" for m in set(item.get("mistakes", [])))

    queue = []
    for (sid, name), book in sorted(books.books.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        for notebook, gid in book.waiting:
            link = (f"{formgrader_url.rstrip('/')}/formgrader/submissions/"
                    f"{book.sheets[notebook].submitted_notebook_id}")
            label = item_label(name, notebook, gid)
            queue.append([e(name), _who(books.students[sid].name, sid),
                          e(data.titles.get(name, {}).get(label, label)),
                          f'<a href="{e(link)}">grade in formgrader</a>'])

    problems = [[e(p.student), e(p.assignment), "flagged" if p.kind == "flag" else "problem", e(p.reason)]
                for p in data.problems]
    url = mathjax.install(folder)
    page = f"""<!doctype html><html><head><meta charset=utf-8><title>Class report</title>
<style>{STYLE}</style>{mathjax.script(url)}</head><body><h1>Class report</h1>
<p>Every score is read from the gradebook ({e(str(ws.gradebook))}): manual grades, overrides and late
penalties are included. ✎ marks a written answer that waits for a grader, ⚠ a problem or a flag.</p>
{_table(["assignment", "submissions", "mean score", "written answers waiting"], summary, raw_html=True)}
<h2>Students ({len(per_student)})</h2>
{_table(["student", *names, "total"], per_student, raw_html=True)}
<h2>Submissions with problems ({len(problems)})</h2>
{_table(["student", "assignment", "kind", "reason"], problems, raw_html=True) if problems else "<p>None.</p>"}
<h2>Written answers waiting for a grader ({len(queue)})</h2>
<p><small>Blank answers are not listed: they score 0 by themselves, as in nbgrader. Links open formgrader
at {e(formgrader_url)} (start it with <code>cd course &amp;&amp; jupyter lab</code>).</small></p>
{_table(["assignment", "student", "item", ""], queue, raw_html=True) if queue else "<p>None.</p>"}
<h2>Score distributions</h2>{"".join(f'<img src="{e(p.name)}" alt="{e(p.stem)}">' for p in images)}
<h2>Items most often failed</h2>{_table(["item", "students"], [[k, str(v)] for k, v in failed.most_common(15)])}
<h2>Mistakes most often named</h2>{_table(["mistake", "students"], [[k, str(v)] for k, v in mistakes.most_common(15)])}
</body></html>"""
    index = folder / "index.html"
    tmp = index.with_name("index.html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(index)
    return index
