"""The stub that replaces a solution in the release: nbgrader's, except at a cell's top level.

Inside a function or method the stub raises ``NotImplementedError``, so the function fails
loudly and its check says "not implemented yet". At the top level of an answer cell
(numbers, choices, hand-set weights) the cell keeps the placeholders written above the
solution (``n_params = None``) and the stub is only a comment: a first run of the blank
cell raises nothing, and its check says "no answer yet". ``course/nbgrader_config.py``
puts this preprocessor in nbgrader's place, for ``dlf release`` and stock nbgrader alike.
"""

from __future__ import annotations

import re
from typing import Any

from nbformat import NotebookNode
from nbgrader.preprocessors import ClearSolutions as _NbgraderClearSolutions
from traitlets import Unicode

TOP_LEVEL_STUB = "# YOUR CODE HERE"


class ClearSolutions(_NbgraderClearSolutions):
    """nbgrader's ClearSolutions with ``top_level_stub`` for unindented solution regions."""

    top_level_stub = Unicode(TOP_LEVEL_STUB, help="The stub of a solution region at a code "
                             "cell's top level").tag(config=True)

    def _replace_solution_region(self, cell: NotebookNode, language: str) -> bool:
        if cell.cell_type != "code":
            return bool(super()._replace_solution_region(cell, language))
        stub = self.code_stub[language].split("\n")
        lines: list[str] = []
        inside = replaced = False
        for line in cell.source.split("\n"):
            if self.begin_solution_delimeter in line:
                if inside:
                    raise RuntimeError("encountered nested begin solution statements")
                inside = replaced = True
                indent = re.match(r"\s*", line).group(0)  # type: ignore[union-attr]
                lines += [indent + s for s in (stub if indent else self.top_level_stub.split("\n"))]
            elif self.end_solution_delimeter in line:
                inside = False
            elif not inside:
                lines.append(line)
        if inside:
            raise RuntimeError("no end solution statement found")
        cell.source = "\n".join(lines)
        return replaced


def release_preprocessors() -> list[Any]:
    """nbgrader's generate_assignment pipeline with this ClearSolutions in place of its own."""
    from nbgrader.converters import GenerateAssignment

    default = GenerateAssignment.class_traits()["preprocessors"].make_dynamic_default()
    return [ClearSolutions if p is _NbgraderClearSolutions else p for p in default]
