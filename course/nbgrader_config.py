"""nbgrader configuration: this repository is an nbgrader course.

Run ordinary nbgrader commands from this folder (``cd course && nbgrader ...``), or
use ``dlf``, which loads this file. Source notebooks live in ``solutions/<assignment>/``
and the student release is generated into ``notebooks/<assignment>/``.
"""

from pathlib import Path

c = get_config()  # type: ignore[name-defined]  # noqa: F821 - injected by traitlets

ROOT = Path(__file__).resolve().parent.parent

c.CourseDirectory.course_id = "dl-foundations"
c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "course/submitted"
c.CourseDirectory.autograded_directory = "course/autograded"
c.CourseDirectory.feedback_directory = "course/feedback"
c.CourseDirectory.db_url = f"sqlite:///{ROOT / 'course' / 'gradebook.db'}"
# result.json holds the grader's full messages (hidden cases too): nbgrader must not copy it into feedback.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*result.json"]

# Students see a stub that fails loudly until they write their answer: inside a function it
# raises NotImplementedError; at a cell's top level (numbers, choices) the placeholders above
# it stay and the stub is a comment, so the blank cell runs and its check says "no answer yet".
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
try:
    from autograder.nb.stubs import release_preprocessors
except ImportError:
    pass  # outside the course's environment: nbgrader's stub, which raises at the top level too
else:
    c.GenerateAssignment.preprocessors = release_preprocessors()

# A cell that runs longer than this is stopped; the notebook budget is 30 s.
c.ExecutePreprocessor.timeout = 120
c.Execute.timeout = 120

# Feedback never shows hidden tests (source, tracebacks, hidden verdicts), and renders maths
# with MathJax written beside each page, so it works offline (autograder/instructor/nbgrader_feedback.py).
try:
    from autograder.instructor.nbgrader_feedback import configure as _configure_feedback
except ImportError:
    # Outside the course's environment the redaction cannot run: generate_feedback then fails
    # on the missing preprocessor instead of writing pages that show hidden tests.
    c.GenerateFeedback.preprocessors = ["autograder.instructor.nbgrader_feedback.RedactHiddenTests"]
else:
    _configure_feedback(c)
