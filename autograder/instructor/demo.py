"""The instructor pipeline, end to end, on the bundled sample class."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.instructor import sample_class
from autograder.instructor.export import export_grades
from autograder.instructor.feedback import write_feedback
from autograder.instructor.grade_all import GradeSummary, grade_workspace
from autograder.instructor.report import write_report
from autograder.instructor.workspace import Workspace
from autograder.nb.course import assignments
from autograder.sandbox.limits import Limits

# The fastest three to grade, one from each part of the course, so the demo fits in a
# couple of minutes on 2 cores; ``dlf demo --all`` grades every assignment (about 7 min).
DEFAULT_ASSIGNMENTS = ("01_unit_to_network", "04_costs", "06_backpropagation")


def default_assignments(ws: Workspace) -> list[str]:
    known = [a.name for a in assignments(ws.root)]
    chosen = [name for name in DEFAULT_ASSIGNMENTS if name in known]
    return chosen or known


@dataclass(frozen=True)
class DemoOutcome:
    ws: Workspace
    summary: GradeSummary
    students: list[sample_class.Student]
    csv: Path
    report: Path
    feedback: list[Path]

    @property
    def ok(self) -> bool:
        """The answer key earns full marks and the untouched release zero, on every assignment."""
        kind = {s.name: s.kind for s in self.students}
        for r in self.summary.results:
            if kind.get(r.student) == "key" and any(  # written answers are the grader's to score
                    i.kind == "autograded" and (i.points or 0) < i.max_points for i in r.items):
                return False
            if kind.get(r.student) == "blank" and any(i.points for i in r.items):
                return False
        return bool(self.summary.results)

    def render(self) -> str:
        res = self.summary.results
        manual = sum(1 for r in res for i in r.items if i.needs_manual_grade)
        lines = [
            f"sample class: {len(self.students)} students, {len(res)} submissions "
            f"({self.summary.graded} graded, {self.summary.reused} unchanged) in {self.summary.seconds:.1f} s",
            f"  gradebook: {self.ws.gradebook}   (nbgrader export --db {self.ws.db_url})",
            f"  grades:    {self.csv}  (and canvas.csv beside it)",
            f"  feedback:  {self.ws.feedback}/<student>/<assignment>/  ({len(self.feedback)} pages)",
            f"  report:    {self.report}",
            f"  {manual} written answers wait for manual grading (blank ones score 0 by themselves)",
        ]
        if not self.ok:
            lines.append("  WARNING: the answer key lost points or a blank submission earned some")
        return "\n".join(lines)


def run_demo(ws: Workspace, *, n_students: int = 42, names: list[str] | None = None,
             workers: int | None = None, limits: Limits | None = None) -> DemoOutcome:
    names = names or default_assignments(ws)
    students = sample_class.generate(ws, n_students=n_students, names=names)
    summary = grade_workspace(ws, assignments=names, workers=workers, limits=limits)
    feedback = write_feedback(ws).pages
    return DemoOutcome(ws, summary, students, export_grades(ws).grades, write_report(ws), feedback)
