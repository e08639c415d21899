"""The task a Dask worker runs: grade one parcel in the sandbox, from its own copy of the course.

Worker side. The worker needs the course installed from the same commit and lock file as
the client (``course/INSTRUCTORS.md``), no shared filesystem: the source notebook, the
views and the answer key are its own. A parcel from a client of another grader is not
graded; the reply says which grader this worker runs, so the client can refuse it by name.
Whatever happens, the reply is one JSON document as bytes: plain data, nothing to unpickle.
"""

from __future__ import annotations

import json
import os
import threading
import traceback
from typing import Any

from autograder.cluster.identity import grader_identity
from autograder.cluster.parcel import sha256
from autograder.grading.grade import grade_handed_in
from autograder.nb.course import assignments
from autograder.sandbox.files import SubmissionFiles
from autograder.sandbox.limits import Limits

# One notebook at a time per worker process, whatever its threads: the grader parses
# notebooks with ``ast``, which CPython 3.11 does not survive from several threads at once.
# Workers run one thread each (``--nthreads 1``) and one process per core.
_grading = threading.Lock()


def grade_parcel(parcel: dict[str, Any]) -> bytes:
    """Grade ``parcel`` (``autograder.cluster.parcel.pack``); the reply as JSON bytes."""
    with _grading:
        return _grade(parcel)


def _grade(parcel: dict[str, Any]) -> bytes:
    token = parcel.get("token")
    try:
        mine = grader_identity()
        if parcel.get("identity") != mine:
            return _reply(token, wrong_grader=True, identity=mine, worker=_worker_name())
        known = {a.name: a for a in assignments()}
        assignment, name = parcel["assignment"], parcel["name"]
        if assignment not in known or name not in known[assignment].names:
            return _reply(token, failed=f"this worker's course has no notebook {name!r} in "
                                        f"assignment {assignment!r}")
        result = grade_handed_in(known[assignment].source_of(name), _handed_in(parcel),
                                 limits=Limits(**parcel["limits"]), assignment=assignment,
                                 name=name)
        # The executed notebook as plain JSON (it is a dict): the client validates it once,
        # when it writes it, as local grading does.
        return _reply(token, sha256=sha256(parcel["notebook"]), result=result.to_dict(),
                      notebook=result.notebook)
    except Exception as exc:
        tail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return _reply(token, failed=f"the worker's grader failed: {tail[:1000]}")


def _handed_in(parcel: dict[str, Any]) -> SubmissionFiles:
    """The files as descriptors, like those local grading opens: memfds, no path anywhere."""
    out = SubmissionFiles(bytes(parcel["notebook"]), problems=list(parcel["problems"]),
                          flags=list(parcel["flags"]))
    try:
        for name, data in parcel["files"]:
            fd = os.memfd_create("dlf-file", os.MFD_CLOEXEC)
            out.files.append((str(name), fd))
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        out.close()
        raise
    return out


def _worker_name() -> str:
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"
    return f"{worker.name} ({worker.address})" if worker.name != worker.address else worker.address


def _reply(token: object, **fields: Any) -> bytes:
    return json.dumps({"token": token, **fields}).encode()
