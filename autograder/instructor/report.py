"""``dlf report``: the class at a glance: distributions, common failures, what needs a grader."""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from autograder.grading import NotebookResult
from autograder.instructor.workspace import Workspace


def _by_assignment(results: list[NotebookResult]) -> dict[str, list[NotebookResult]]:
    out: dict[str, list[NotebookResult]] = defaultdict(list)
    for r in results:
        out[r.assignment].append(r)
    return dict(sorted(out.items()))


def plot_distributions(results: list[NotebookResult], folder: Path) -> list[Path]:
    paths = []
    for name, group in _by_assignment(results).items():
        items = [i.grade_id for i in group[0].items if i.kind == "autograded"]
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, max(3.6, 0.2 * len(items) + 1.2)),
                                          gridspec_kw={"width_ratios": [1, 2]})
        auto_max = sum(i.max_points for i in group[0].items if i.kind == "autograded") or 1.0
        totals = [100 * sum(i.points or 0 for i in r.items if i.kind == "autograded") / auto_max
                  for r in group]
        left.hist(totals, bins=10, range=(0, 100), color="#3a6ea5", edgecolor="white")
        left.set(title=f"{name}: autograded score", xlabel="% of points", ylabel="students")
        rates = []
        for gid in items:
            got = [i for r in group for i in r.items if i.grade_id == gid]
            rates.append(100 * sum(1 for i in got if i.points == i.max_points) / max(1, len(got)))
        right.barh(range(len(items)), rates, color="#6a994e")
        right.set_yticks(range(len(items)), items, fontsize=7)
        right.invert_yaxis()
        right.set(title="share of students passing each item", xlabel="%", xlim=(0, 100))
        fig.tight_layout()
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths


def write_report(ws: Workspace, results: list[NotebookResult]) -> Path:
    folder = ws.report
    folder.mkdir(parents=True, exist_ok=True)
    e = html.escape
    images = plot_distributions(results, folder)
    failed: Counter[str] = Counter()
    mistakes: Counter[str] = Counter()
    for r in results:
        for i in r.items:
            if i.points is not None and i.points < i.max_points:
                failed[f"{r.assignment}: {i.grade_id}"] += 1
            mistakes.update(f"{r.assignment}: {m}" for m in set(i.mistakes))
    manual = [(r.student, r.assignment, [i.grade_id for i in r.items if i.needs_manual_grade])
              for r in results if any(i.needs_manual_grade for i in r.items)]
    problems = [(r.student, r.assignment, p) for r in results for p in r.problems]
    flagged = [(r.student, r.assignment, f) for r in results for f in r.flags]

    def table(head: list[str], rows: list[list[str]]) -> str:
        th = "".join(f"<th>{e(h)}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
        return f"<table><tr>{th}</tr>{body}</table>"

    summary = [[name, str(len(g)),
                f"{sum(r.score for r in g) / len(g):.1f} / {g[0].max_score:g}"]
               for name, g in _by_assignment(results).items()]
    page = f"""<!doctype html><html><head><meta charset=utf-8><title>Class report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse;margin:.5rem 0 1.5rem}}td,th{{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:left}}
img{{max-width:100%}}</style></head><body><h1>Class report</h1>
{table(["assignment", "submissions", "mean score"], summary)}
<h2>Score distributions</h2>{"".join(f'<img src="{p.name}" alt="{e(p.stem)}">' for p in images)}
<h2>Checks most often failed</h2>{table(["item", "students"], [[k, str(v)] for k, v in failed.most_common(15)])}
<h2>Mistakes most often named</h2>{table(["mistake", "students"], [[k, str(v)] for k, v in mistakes.most_common(15)])}
<h2>Submissions that need manual grading ({len(manual)})</h2>
{table(["student", "assignment", "items"], [[s, a, ", ".join(i)] for s, a, i in manual])}
<h2>Flagged for a closer look ({len({(s, a) for s, a, _ in flagged})} submissions)</h2>
<p>What a submission's code did that looks like reaching for the answer key or the grader.
Flags do not change a score; tampering with the result channel scores 0.</p>
{table(["student", "assignment", "flag"], [[s, a, f] for s, a, f in flagged])}
<h2>Problems while running submissions ({len(problems)})</h2>
{table(["student", "assignment", "problem"], [[s, a, p] for s, a, p in problems])}
</body></html>"""
    index = folder / "index.html"
    index.write_text(page)
    return index
