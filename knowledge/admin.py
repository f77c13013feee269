from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse

from stocktool.aws import AWSError

from .forms import DocumentForm
from .models import KnowledgeDocument
from .selectors import document_download_url, document_versions
from .services import document_delete, document_reindex, document_restore, document_upload
from .storage import uses_s3


class ContentTypeFilter(admin.SimpleListFilter):
    """By content type, with a name for documents that have none (a file that failed before it was read):
    the admin's default filter would show an empty, nameless link for them."""

    title = "content type"
    parameter_name = "content_type"

    def lookups(self, request, model_admin):
        types = model_admin.get_queryset(request).order_by("content_type").values_list("content_type", flat=True)
        return [(t or "-", t or "(none)") for t in dict.fromkeys(types)]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(content_type="" if self.value() == "-" else self.value())


@admin.register(KnowledgeDocument)
class KnowledgeDocumentAdmin(admin.ModelAdmin):
    form = DocumentForm
    list_display = ("title", "key", "status", "size_display", "passage_count", "short_version", "updated_at")
    list_filter = ("status", ContentTypeFilter, "updated_at")
    search_fields = ("title", "key")
    readonly_fields = ("key", "status", "error", "content_type", "size_display", "passage_count", "version_id",
                       "etag", "sha256", "indexed_at", "uploaded_by", "created_at", "updated_at")
    actions = ["reindex_selected"]
    change_form_template = "admin/knowledge/knowledgedocument/change_form.html"
    change_list_template = "admin/knowledge/knowledgedocument/change_list.html"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("upload", "save_as", "title")
        return ("title", "upload", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ()

    @admin.display(description="size", ordering="size")
    def size_display(self, obj):
        return filesizeformat(obj.size)

    @admin.display(description="version")
    def short_version(self, obj):
        return (obj.version_id or "")[:12]

    def save_model(self, request, obj, form, change):
        content = form.cleaned_data.get("content")
        if content is None:
            return
        # An unchanged title field is the one read from the file: leave it to the file, don't pin it.
        title = (form.cleaned_data.get("title") or "") if not change or "title" in form.changed_data else ""
        doc, existed = document_upload(name=form.cleaned_data["name"], content=content,
                                       title=title, user=request.user,
                                       key=obj.key if change else None)
        obj.pk = doc.pk
        obj.refresh_from_db()
        obj.new_version_of_existing = existed and not change

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(obj, "new_version_of_existing", False):
            # Not an "added" document: say what happened and show its versions.
            messages.info(request, f"{obj.key} already existed: the upload is stored as its new version; earlier "
                                   "versions are kept and can be restored below.")
            return self._back(obj)
        return super().response_add(request, obj, post_url_continue)

    def delete_model(self, request, obj):
        document_delete(document=obj)
        messages.info(request, f"{obj.key}: a delete marker was added; restore any version from its page.")

    def delete_queryset(self, request, queryset):
        for doc in queryset:
            document_delete(document=doc)

    @admin.action(description="Re-index selected documents from S3")
    def reindex_selected(self, request, queryset):
        outcomes = [document_reindex(document=doc) for doc in queryset]
        self.message_user(request, f"Re-indexed {outcomes.count('indexed')}; {outcomes.count('failed')} failed; "
                                   f"{outcomes.count('removed')} no longer in the bucket.")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/download/", view(self.download_view), name="knowledge_document_download"),
            path("<path:object_id>/restore/", view(self.restore_view), name="knowledge_document_restore"),
            path("<path:object_id>/reindex/", view(self.reindex_view), name="knowledge_document_reindex"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        doc = self.get_object(request, object_id)
        if doc is not None:
            try:
                extra["versions"] = document_versions(document=doc)
            except AWSError as exc:
                extra["versions_error"] = str(exc)
            extra["versioned"] = uses_s3()
        return super().change_view(request, object_id, form_url, extra)

    def _document(self, request, object_id, *, change: bool):
        doc = get_object_or_404(KnowledgeDocument, pk=object_id)
        allowed = self.has_change_permission(request, doc) if change else self.has_view_permission(request, doc)
        if not allowed:
            raise PermissionDenied
        return doc

    def _back(self, doc):
        return HttpResponseRedirect(reverse("admin:knowledge_knowledgedocument_change", args=[doc.pk]))

    def download_view(self, request, object_id):
        doc = self._document(request, object_id, change=False)
        return HttpResponseRedirect(document_download_url(document=doc, version_id=request.GET.get("version")))

    def restore_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        doc = self._document(request, object_id, change=True)
        version = request.POST.get("version_id", "")
        try:
            outcome = document_restore(document=doc, version_id=version)
        except AWSError as exc:
            messages.error(request, f"Could not restore: {exc}")
        else:
            messages.success(request, f"Version {version[:12]} is current again ({outcome}); it is a new version, "
                                      "so nothing was lost.")
        return self._back(doc)

    def reindex_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        doc = self._document(request, object_id, change=True)
        try:
            outcome = document_reindex(document=doc)
        except AWSError as exc:
            messages.error(request, f"Could not re-index: {exc}")
        else:
            messages.success(request, f"Re-indexed from S3: {outcome}.")
        return self._back(doc)
