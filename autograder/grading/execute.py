"""Execute a notebook in a fresh kernel, cell by cell, and collect each cell's check records."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from autograder.checks.channel import ENV, read_records

PREAMBLE = "import autograder.checks as _dlf_checks  # captured before student code runs"


@dataclass
class Execution:
    notebook: NotebookNode
    records: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    fatal: str | None = None


def execute(nb: NotebookNode, *, workdir: Path, cell_timeout: float = 60.0) -> Execution:
    """Run every code cell of ``nb`` in order; errors are recorded and execution goes on."""
    nb = nbformat.from_dict(nb)
    with tempfile.TemporaryDirectory(prefix="dlf-channel-") as tmp:
        channel = str(Path(tmp) / "records.jsonl")
        Path(channel).touch()
        env = dict(os.environ, **{ENV: channel, "MPLBACKEND": "Agg"})
        client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3",
                                allow_errors=True, resources={"metadata": {"path": str(workdir)}})
        result = Execution(nb)
        offset = 0
        with client.setup_kernel(env=env, cwd=str(workdir)):
            client.execute_cell(nbformat.v4.new_code_cell(PREAMBLE), 0)
            _, offset = read_records(channel, offset)
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    result.errors[index] = f"the cell ran longer than {cell_timeout:g} s and was stopped"
                except DeadKernelError:
                    result.fatal = "the kernel died (the notebook crashed or ran out of memory)"
                    result.errors[index] = result.fatal
                    break
                except CellExecutionError as exc:
                    result.errors[index] = str(exc)[-2000:]
                records, offset = read_records(channel, offset)
                if records:
                    result.records[index] = records
                error = _cell_error(cell)
                if error and index not in result.errors:
                    result.errors[index] = error
        return result


def _cell_error(cell: NotebookNode) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}"
    return None
