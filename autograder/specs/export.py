"""What leaves the grader's side: visible check data at release, hidden inputs at grading."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from autograder.checks.exercises import FORMAT
from autograder.specs import registry


def exercises_data(prefix: str) -> dict[str, object]:
    """The content of ``autograder/exercises/nb<prefix>.json``."""
    checks = {cid: registry.get(cid).visible_data() for cid in registry.all_ids(prefix)}
    return {"format": FORMAT,
            "notebook": {"number": prefix, "forbidden": sorted(registry.forbidden(prefix))},
            "checks": checks}


def exercises_text(prefix: str) -> str:
    return json.dumps(exercises_data(prefix), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_exercises(prefixes: Iterable[str], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for prefix in prefixes:
        path = out_dir / f"nb{prefix}.json"
        text = exercises_text(prefix)
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
        written.append(path)
    return written


def hidden_blob(check_ids: Iterable[str]) -> bytes:
    """The hidden cases' inputs of ``check_ids``, as the sandbox receives them."""
    cases = {cid: registry.get(cid).hidden_data() for cid in sorted(set(check_ids))}
    return json.dumps({"cases": {k: v for k, v in cases.items() if v}},
                      separators=(",", ":")).encode("utf-8")
