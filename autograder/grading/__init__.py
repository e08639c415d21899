"""The course's grader: run a submission, collect what the checks observed, decide outside."""

from autograder.grading.grade import ItemResult, NotebookResult, grade_notebook

__all__ = ["ItemResult", "NotebookResult", "grade_notebook"]
