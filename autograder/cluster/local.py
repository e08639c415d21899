"""``dlf cluster-local``: a Dask scheduler and N grading workers on this machine.

For trying ``dlf grade --scheduler`` (and for the tests and the benchmark): the workers are
processes of one thread each, run this Python with the course installed here, and listen
on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from distributed import LocalCluster


def start(*, workers: int = 2, port: int = 0) -> LocalCluster:
    """A running local cluster of ``workers`` one-thread worker processes."""
    from distributed import LocalCluster

    if workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}")
    # Workers run side by side: one BLAS thread each keeps them from fighting over cores.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                        host="127.0.0.1", scheduler_port=port,
                        # The scheduler's HTTP server (health, metrics) always runs: on a free port.
                        dashboard_address="127.0.0.1:0",
                        silence_logs=40)


def serve(*, workers: int = 2, port: int = 0) -> int:
    """Start the cluster, say how to use it, and keep it up until Ctrl-C."""
    cluster = start(workers=workers, port=port)
    try:
        print(f"Dask scheduler at {cluster.scheduler_address} with {workers} workers", flush=True)
        print(f"grade on it with:  dlf grade --scheduler {cluster.scheduler_address}", flush=True)
        print("Ctrl-C stops it", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.close()
