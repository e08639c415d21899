"""Run untrusted notebooks: a forked, isolated process per notebook, started from a warm worker."""
