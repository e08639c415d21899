"""``python -m bench [name] [options]``: run one benchmark, or every one in turn.

``python -m bench`` runs them all with their default options; ``python -m bench grading
--quick`` runs one and passes it the rest of the command line. Each prints its own figures.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# Cheapest first, so a full run shows early figures soon.
BENCHMARKS = {
    "notebooks": "seconds per solution notebook through the grader, against the 30 s budget",
    "mlp_epoch": "seconds per MLP epoch: reference modules, fused numpy, PyTorch",
    "grading": "one sample class graded by dlf and by stock nbgrader autograde",
    "cluster": "one sample class graded by this machine's pool and by a local Dask cluster",
}


def run(name: str, argv: Sequence[str]) -> int:
    """Import ``bench.<name>`` and call its ``main(argv)``."""
    module = importlib.import_module(f"bench.{name}")
    code: int = module.main(list(argv))
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        for name, what in BENCHMARKS.items():
            print(f"  {name:<10} {what}")
        return 0
    if args:
        name, rest = args[0], args[1:]
        if name not in BENCHMARKS:
            print(f"unknown benchmark {name!r}; choose one of: {', '.join(BENCHMARKS)}",
                  file=sys.stderr)
            return 2
        return run(name, rest)
    worst = 0
    for name in BENCHMARKS:
        print(f"=== python -m bench {name}", flush=True)
        worst = max(worst, run(name, []))
        print(flush=True)
    return worst


if __name__ == "__main__":
    raise SystemExit(main())
