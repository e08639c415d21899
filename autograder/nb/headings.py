"""Human names for graded cells: the heading of the section each one sits in."""

from __future__ import annotations

import re

from nbformat import NotebookNode

from autograder.nb.course import is_test, is_written, nbgrader_meta

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


def item_titles(source: NotebookNode) -> dict[str, str]:
    """``grade_id -> title``: the nearest heading above the cell; written answers that
    carry a heading of their own keep theirs. Items that share a heading get their
    grade id added in brackets, so no two titles are the same."""
    titles: dict[str, str] = {}
    current = ""
    for cell in source.cells:
        if cell.cell_type == "markdown" and not is_written(cell):
            found = _HEADING.findall(cell.source)
            if found:
                current = _plain(found[-1][1])
        if is_test(cell) or is_written(cell):
            titles[nbgrader_meta(cell)["grade_id"]] = current or nbgrader_meta(cell)["grade_id"]
    counts: dict[str, int] = {}
    for title in titles.values():
        counts[title] = counts.get(title, 0) + 1
    return {gid: (f"{t} ({gid})" if counts[t] > 1 and t != gid else t) for gid, t in titles.items()}


def notebook_title(source: NotebookNode) -> str | None:
    for cell in source.cells:
        if cell.cell_type == "markdown":
            found = _HEADING.findall(cell.source)
            if found:
                return _plain(found[0][1])
    return None


def _plain(text: str) -> str:
    """A heading without markdown emphasis or links; maths stays as written."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"(?<!\\)[*_`]{1,3}(?=\S)|(?<=\S)[*_`]{1,3}", "", text).strip()
