"""Test-wide settings: headless plotting and a Hypothesis profile that suits 2 cores."""

import os

import matplotlib
from hypothesis import HealthCheck, settings

os.environ.setdefault("MPLBACKEND", "Agg")
matplotlib.use("Agg")

settings.register_profile(
    "course",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.load_profile("course")
