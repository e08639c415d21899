"""The limits a submission runs under."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    cell_timeout: float = 30.0
    notebook_timeout: float = 120.0
    memory_bytes: int = 2 * 1024**3
    max_processes: int = 64
    max_file_bytes: int = 64 * 1024**2
    output_tail_bytes: int = 8 * 1024

    def __post_init__(self) -> None:
        for name in ("cell_timeout", "notebook_timeout", "memory_bytes", "max_processes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"limit {name} must be positive, got {getattr(self, name)}")
