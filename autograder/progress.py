"""A dependency-free progress bar with an ETA, drawn on stderr when it is a terminal."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    def __init__(self, *, total: int, label: str, enabled: bool = True, width: int = 30) -> None:
        # Logs and pipes get no bar: its carriage returns would bury the one line an error prints.
        enabled = enabled and total > 0 and sys.stderr.isatty()
        self.total, self.label, self.enabled, self.width = total, label, enabled, width
        self.done = 0
        self.start = time.monotonic()
        self._draw()

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._draw()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()

    def _draw(self) -> None:
        if not self.enabled:
            return
        frac = self.done / self.total if self.total else 1.0
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        filled = int(self.width * frac)
        bar = "#" * filled + "-" * (self.width - filled)
        eta_text = f"{eta:5.0f}s" if eta == eta else "    ?"
        sys.stderr.write(f"\r{self.label} [{bar}] {self.done}/{self.total} "
                         f"elapsed {elapsed:5.0f}s eta {eta_text}")
        sys.stderr.flush()
