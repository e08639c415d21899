"""Run untrusted notebooks, each in a sandbox forked from a zygote that never held the answer key.

Grader side: ``executor`` (start zygotes, launch a sandbox, read its stream), ``stream``
(the event stream's grammar), ``files`` (a submission read without following links),
``limits``. Loaded into the zygote from the grader's files: ``zygote`` (the fork server),
``steps`` (each protection, a named step) and ``kernel`` (the system calls they make).
"""
