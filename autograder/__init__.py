"""The course's autograder: the check library used by every test cell, and the grading pipeline.

``autograder.checks`` is what notebooks import (``from autograder.checks import check``);
``autograder.cli`` is the ``dlf`` command line.
"""

__version__ = "0.1.0"
