"""The instructor's pipeline: import submissions, grade, record, feed back, export, report."""
