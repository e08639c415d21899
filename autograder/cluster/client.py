"""Send submissions to a Dask cluster and hand the results back in batches.

Client side. ``grade_on_cluster`` connects to the scheduler, asks every worker which grader
it runs (``identity.py``) and uses only those that run the client's own; the others are
refused by name, now and whenever one joins (tasks then name the accepted workers), and a
worker checks each parcel's grader again before grading it. It keeps a bounded number of parcels in
flight (twice the accepted workers' threads), so the scheduler never holds a whole term's
notebooks. A worker that dies mid-notebook loses nothing: the scheduler runs the task
again on another worker, and whatever arrives for a submission after its first accepted
result is ignored, so each submission is recorded once. A scheduler that goes away stops
the run with ``ClusterError`` after the results already received are handed over.

The client deserializes only msgpack from the cluster (``deserializers=["msgpack"]``): a
worker's reply must be plain bytes, which ``parcel.read_reply`` parses as JSON.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder.cluster import parcel as wire
from autograder.cluster.identity import describe, grader_identity
from autograder.grading.grade import NotebookResult, refused_result
from autograder.sandbox.files import SubmissionRefused

if TYPE_CHECKING:
    from distributed import Client, Future

    from autograder.grading.batch import Job

CONNECT_SECONDS = 20.0
# A scheduler unreachable this long has gone away.
LOST_SECONDS = 10.0
WORKER_CHECK_SECONDS = 2.0
# Resubmissions of one parcel after wrong graders or lost workers, before it is given up.
MAX_ATTEMPTS = 5
# How long a run waits for a worker of this grader, at the start or when all have left.
NO_WORKER_SECONDS = 60.0


class ClusterError(RuntimeError):
    """The cluster cannot go on grading; the message says why and what was kept."""


@dataclass
class ClusterRun:
    """What came back: results by job index, submissions not graded (with why), refused workers."""

    results: dict[int, NotebookResult] = field(default_factory=dict)
    not_graded: list[str] = field(default_factory=list)
    refused_workers: list[str] = field(default_factory=list)


@dataclass
class _Flight:
    index: int
    parcel: dict[str, Any]
    attempt: int = 0
    allowed: frozenset[str] = frozenset()  # the workers its current task may run on (empty: any)


OnBatch = Callable[[list[tuple["Job", NotebookResult]]], None]


def grade_on_cluster(jobs: Sequence[Job], *, address: str, on_batch: OnBatch | None = None,
                     batch_size: int = 16, batch_seconds: float = 1.0) -> ClusterRun:
    """Grade ``jobs`` on the cluster whose scheduler is at ``address``.

    ``on_batch`` receives the results as they arrive, at most ``batch_size`` at a time and
    at least every ``batch_seconds``; every result it was given is in the returned run.
    """
    client = connect(address)
    try:
        return _Run(client, address, jobs, on_batch, batch_size, batch_seconds).go()
    finally:
        _close(client)


def connect(address: str) -> Client:
    from distributed import Client

    try:
        # msgpack only: nothing a worker sends back is unpickled here.
        return Client(address, deserializers=["msgpack"], timeout=CONNECT_SECONDS,
                      set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"no Dask scheduler answers at {address} ({exc}): start one "
                           "(dlf cluster-local, or dask scheduler) or check the address") from None


def _close(client: Client) -> None:
    try:
        client.close(timeout=5)
    except Exception:
        pass  # a scheduler that went away cannot be told goodbye


class _Run:
    def __init__(self, client: Client, address: str, jobs: Sequence[Job],
                 on_batch: OnBatch | None, batch_size: int, batch_seconds: float) -> None:
        self.client, self.address, self.jobs = client, address, jobs
        self.on_batch, self.batch_size, self.batch_seconds = on_batch, batch_size, batch_seconds
        self.identity = grader_identity()
        self.out = ClusterRun()
        self.accepted: dict[str, int] = {}  # worker address -> threads
        self.names: dict[str, str] = {}  # worker address -> "name (address)"
        self.refused: set[str] = set()
        self.flying: dict[Future, _Flight] = {}
        self.pending: list[tuple[Job, NotebookResult]] = []
        self.first_pending = 0.0
        self.last_check = 0.0
        self.lost_since: float | None = None
        self.alone_since: float | None = None

    def go(self) -> ClusterRun:
        # One assignment after another, as the pool does: each worker keeps its zygotes warm.
        todo = sorted(range(len(self.jobs)), key=lambda i: (str(self.jobs[i].source), i))
        todo.reverse()
        try:
            self._first_workers()
            while todo or self.flying:
                while todo and len(self.flying) < self._window():
                    self._launch(todo.pop())
                self._wait()
                self._watch()
                if self.pending and (len(self.pending) >= self.batch_size or
                                     time.monotonic() - self.first_pending >= self.batch_seconds):
                    self._flush()
        finally:
            self._flush()  # what arrived is kept, whatever stops the run
            for fut in self.flying:
                try:
                    fut.release()
                except Exception:
                    pass  # a scheduler that went away has forgotten it anyway
        return self.out

    def _first_workers(self) -> None:
        """Wait for a worker of this grader (a batch system may start them late)."""
        deadline = time.monotonic() + NO_WORKER_SECONDS
        self._check_workers()
        while not self.accepted and not self.refused and time.monotonic() < deadline:
            time.sleep(1.0)
            self._check_workers()
        if not self.accepted:
            why = ("no worker of the cluster at {0} runs this grader" if self.refused else
                   "no worker joined the cluster at {0} in {1:g} s")
            raise ClusterError(self._no_worker(why.format(self.address, NO_WORKER_SECONDS)))

    def _window(self) -> int:
        return max(2, 2 * sum(self.accepted.values()))

    def _launch(self, index: int) -> None:
        job = self.jobs[index]
        assignment = job.assignment or job.source.parent.name
        try:
            parcel = wire.pack(job.submission, assignment, job.name or assignment, job.limits,
                               self.identity)
        except SubmissionRefused as exc:
            self._accept(index, refused_result(job.source, exc, student=job.student,
                                               assignment=assignment, name=job.name))
            return
        self._submit(_Flight(index, parcel))

    def _submit(self, flight: _Flight) -> None:
        from autograder.cluster.worker import grade_parcel

        if flight.attempt >= MAX_ATTEMPTS:
            self._give_up(flight, f"sent {MAX_ATTEMPTS} times without a result")
            return
        key = f"dlf-grade-{flight.parcel['token']}-{flight.attempt}"
        # Once a worker was refused, only the accepted ones; while every worker is accepted,
        # none named, so the scheduler balances the load freely (and a worker that joins
        # with another grader refuses the parcel, which is then sent again).
        restrict = sorted(self.accepted) if self.refused else None
        flight.allowed = frozenset(restrict or ())
        fut = self.client.submit(grade_parcel, flight.parcel, key=key, pure=False,
                                 workers=restrict, allow_other_workers=False)
        self.flying[fut] = flight

    def _wait(self) -> None:
        from distributed import wait

        if not self.flying:
            return
        try:
            with self.client.as_current():
                done, _ = wait(list(self.flying), timeout=1.0, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return
        except CancelledError:  # some were cancelled: the scheduler went away, or forgot them
            done = {fut for fut in self.flying if fut.done()}
        for fut in done:
            self._collect(fut, self.flying.pop(fut))

    def _collect(self, fut: Future, flight: _Flight) -> None:
        job = self.jobs[flight.index]
        if fut.status == "cancelled":
            if self.client.status != "running":
                raise ClusterError(self._lost())
            flight.attempt += 1  # the scheduler forgot it (it restarted): send it again
            self._submit(flight)
            return
        if fut.status != "finished":
            self._give_up(flight, "the cluster gave up on it (its workers died while grading it, "
                          "or the task failed)")
            return
        try:
            raw = fut.result()
        except Exception as exc:  # e.g. a reply that is not msgpack: never unpickled
            fut.release()
            self._give_up(flight, f"the worker's reply could not be read as plain data "
                          f"({type(exc).__name__})")
            return
        try:
            reply = wire.read_reply(raw, flight.parcel, source=job.source, student=job.student)
        except wire.ReplyRefused as exc:
            fut.release()
            self._give_up(flight, f"the worker's reply was refused: {exc}")
            return
        if isinstance(reply, wire.WrongGrader):
            ran_on = [a for held in self.client.who_has([fut]).values() for a in held]
            for addr in ran_on:
                self._refuse(addr, reply.identity, self.names.get(addr, addr))
            if not ran_on:
                self.out.refused_workers.append(f"worker {reply.worker} refused: it runs "
                                                f"{describe(reply.identity)}")
            flight.attempt += 1
            if self.accepted:
                self._submit(flight)
            else:
                self._give_up(flight, "no worker of this grader is left")
        elif isinstance(reply, wire.Failed):
            self._give_up(flight, reply.reason)
        else:
            self._accept(flight.index, reply.result)
        fut.release()

    def _accept(self, index: int, result: NotebookResult) -> None:
        if index in self.out.results:
            return  # graded once: a second result for the same submission is dropped
        self.out.results[index] = result
        if not self.pending:
            self.first_pending = time.monotonic()
        self.pending.append((self.jobs[index], result))

    def _give_up(self, flight: _Flight, why: str) -> None:
        job = self.jobs[flight.index]
        self.out.not_graded.append(f"{job.student}/{flight.parcel['assignment']}/"
                                   f"{flight.parcel['name']}: {why}; "
                                   "it is graded again on the next run")

    def _flush(self) -> None:
        if self.pending and self.on_batch is not None:
            batch, self.pending = self.pending, []
            self.on_batch(batch)
        self.pending = []

    def _watch(self, force: bool = False) -> None:
        """Notice a scheduler gone, workers joining or leaving, and no worker left."""
        now = time.monotonic()
        if self.client.status != "running":
            self.lost_since = self.lost_since or now
            if now - self.lost_since >= LOST_SECONDS or self.client.status in ("closing", "closed"):
                raise ClusterError(self._lost())
            return
        self.lost_since = None
        if force or now - self.last_check >= WORKER_CHECK_SECONDS:
            try:
                self._check_workers()
            except OSError:
                return
        if self.accepted:
            self.alone_since = None
            return
        self.alone_since = self.alone_since or now
        if now - self.alone_since >= NO_WORKER_SECONDS:
            raise ClusterError(self._no_worker(f"every worker of this grader left the cluster "
                                               f"at {self.address} for {NO_WORKER_SECONDS:g} s"))

    def _check_workers(self) -> None:
        self.last_check = time.monotonic()
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        gone = [a for a in self.accepted if a not in workers]
        for addr in gone:
            del self.accepted[addr]
        new = [a for a in workers if a not in self.accepted and a not in self.refused]
        if new:
            for addr, ident in self._identities(new).items():
                name = self.names[addr] = _name(workers[addr], addr)
                if ident == self.identity:
                    self.accepted[addr] = int(workers[addr].get("nthreads", 1) or 1)
                else:
                    self._refuse(addr, ident, name)
        if gone and self.accepted:
            self._resubmit_stranded(gone)

    def _identities(self, addresses: list[str]) -> dict[str, Any]:
        from autograder.cluster.identity import grader_identity as ask

        try:
            answers = self.client.run(ask, workers=addresses, on_error="return")
        except Exception:
            answers = {}
            for addr in addresses:  # one worker that cannot answer must not hide the others
                try:
                    answers.update(self.client.run(ask, workers=[addr], on_error="return"))
                except Exception as exc:
                    answers[addr] = f"it could not say which grader it runs ({type(exc).__name__})"
        return {a: answers.get(a, "it did not answer") for a in addresses}

    def _refuse(self, addr: str, identity: object, name: str) -> None:
        self.accepted.pop(addr, None)
        if addr in self.refused:
            return
        self.refused.add(addr)
        if isinstance(identity, dict):
            theirs = f"it runs {describe(identity)}"
        else:
            theirs = str(identity)[:300]
        self.out.refused_workers.append(
            f"worker {name} refused: {theirs}; this client runs {describe(self.identity)}. "
            "Install the course on it from the same commit and lock file (course/INSTRUCTORS.md)")

    def _resubmit_stranded(self, gone: list[str]) -> None:
        """Tasks restricted to workers that all left: send them again to the accepted ones."""
        for fut, flight in list(self.flying.items()):
            if fut.done():
                continue
            if flight.allowed and not flight.allowed & set(self.accepted):
                del self.flying[fut]
                fut.cancel()
                flight.attempt += 1
                self._submit(flight)

    def _lost(self) -> str:
        done = len(self.out.results)
        return (f"the Dask scheduler at {self.address} went away after {done} of {len(self.jobs)} "
                "submissions were graded; those results are saved: run dlf grade again to grade "
                "the rest")

    def _no_worker(self, why: str) -> str:
        lines = [why + ": start workers with the course installed from the same commit and "
                 "lock file (course/INSTRUCTORS.md)"]
        return "; ".join(lines + self.out.refused_workers)


def _name(info: dict[str, Any], addr: str) -> str:
    name = info.get("name")
    return f"{name} ({addr})" if name not in (None, "", addr) else addr


LOCAL = "local"
ENV = "DLF_SCHEDULER"


def scheduler_address(option: str | None, root: Path) -> str | None:
    """Where to grade: ``--scheduler``, else ``$DLF_SCHEDULER``, else ``c.Dlf.scheduler`` in the
    course's ``nbgrader_config.py``; ``None`` (or ``local``) for this machine's cores."""
    import os

    chosen = option if option is not None else os.environ.get(ENV) or _configured(root)
    if not chosen or chosen.strip().lower() == LOCAL:
        return None
    return chosen.strip()


def _configured(root: Path) -> str | None:
    from autograder.nb.release import load_config

    try:
        config = load_config(root)
    except Exception:
        return None  # a course without a readable config grades locally, as before
    section = config.get("Dlf")
    value = section.get("scheduler") if section is not None else None
    return value if isinstance(value, str) else None
