"""The limits a submission runs under, and the grader's own limits on what it reads back."""

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
    # The one writable place in the sandbox: a private tmpfs holding /tmp and the working folder.
    tmp_bytes: int = 256 * 1024**2
    # CPU seconds of the notebook's first process; None: as many as the notebook timeout.
    cpu_seconds: float | None = None
    # Bytes the grader reads from the event stream; beyond it the sandbox is killed.
    channel_bytes: int = 16 * 1024**2
    # Seconds the grader spends evaluating one notebook's records.
    evaluation_seconds: float = 60.0
    # Files handed in beside the notebook (regular files only, never through a symbolic link).
    max_files: int = 64
    max_files_bytes: int = 64 * 1024**2

    def __post_init__(self) -> None:
        for name in ("cell_timeout", "notebook_timeout", "memory_bytes", "max_processes",
                     "max_file_bytes", "tmp_bytes", "channel_bytes", "evaluation_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"limit {name} must be positive, got {getattr(self, name)}")
        if self.cpu_seconds is not None and self.cpu_seconds <= 0:
            raise ValueError(f"limit cpu_seconds must be positive or None, got {self.cpu_seconds}")
        if self.max_files < 0 or self.max_files_bytes < 0:
            raise ValueError("limits max_files and max_files_bytes must not be negative")
