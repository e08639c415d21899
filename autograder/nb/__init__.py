"""Notebook plumbing: the course layout, nbgrader metadata, release generation, execution."""
