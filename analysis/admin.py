from django.contrib import admin, messages

from stocktool.aws import AWSError, get_sqs_service

from .models import AnalysisJob


@admin.register(AnalysisJob)
class AnalysisJobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "analysis_type", "symbol_list", "period", "status", "attempts", "user")
    list_filter = ("status", "analysis_type", "period")
    search_fields = ("id", "error", "user__username")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AnalysisJob._meta.fields]

    @admin.display(description="Symbols")
    def symbol_list(self, job):
        return ", ".join(job.symbols)

    def has_add_permission(self, request):
        return False  # jobs come from the API, the page or the chat

    def changelist_view(self, request, extra_context=None):
        """Show staff what waits in the dead-letter queue (redrive with `manage.py redrive_dlq`)."""
        try:
            sqs = get_sqs_service()
            depth = sqs.depth(dead_letter=True)
        except AWSError as exc:
            self.message_user(request, f"Dead-letter queue unavailable: {exc}", messages.WARNING)
        else:
            if depth:
                self.message_user(request, f"{depth} message(s) in the dead-letter queue {sqs.dlq_name}: "
                                           f"`python manage.py redrive_dlq --peek` shows them, "
                                           f"`redrive_dlq` sends them back.", messages.WARNING)
        return super().changelist_view(request, extra_context)
