"""Grading on a Dask cluster: ``dlf grade --scheduler ADDRESS``.

The client (the instructor's ``dlf grade``) reads each submission as local grading does and
sends its bytes and its assignment's id, never a path; a worker grades it in the same sandbox
as local grading, from its own installed copy of the course, and sends back plain JSON. The
client checks that reply against the submission it sent and stays the only writer of the
gradebook and of ``autograded/``. By where each module runs:

- ``identity.py`` (both): the grader's version and a fingerprint of its code; a worker whose
  identity differs from the client's is refused by name;
- ``parcel.py`` (client): what travels, out and back, and the strict reading of a reply;
- ``worker.py`` (worker): the task, ``grade_parcel``;
- ``client.py`` (client): submission, retries, refusals and batches of results;
- ``local.py``: a scheduler and N workers on this machine, for trying it out.
"""
