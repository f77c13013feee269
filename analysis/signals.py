"""Domain events of the analysis app; `analysis.events` turns them into SNS messages after commit."""

from django.dispatch import Signal

# sender=AnalysisJob, job=<AnalysisJob>
analysis_finished = Signal()
