from django import forms

from .models import KnowledgeDocument
from .parsing import ALLOWED_TYPES, DocumentError, parse_document, suffix_of, validate_name
from .services import max_bytes


class DocumentForm(forms.ModelForm):
    """Upload a document (add) or a new version of it (change); the checks run before anything is stored."""

    upload = forms.FileField(
        required=False, label="File",
        help_text=f"{', '.join(sorted(ALLOWED_TYPES))}; UTF-8 text or a PDF with text.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(sorted(ALLOWED_TYPES))}),
    )
    save_as = forms.CharField(
        required=False, max_length=200, label="Save as",
        help_text="Optional file name in the bucket; the uploaded file's name by default.",
    )

    class Meta:
        model = KnowledgeDocument
        fields = ["title"]
        help_texts = {"title": "Optional; taken from the document's first heading when empty."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        adding = self.instance.pk is None
        self.fields["upload"].required = adding
        if not adding:
            self.fields["upload"].label = "New version"
            self.fields["upload"].help_text = "Upload a file to store it as this document's next version."
            del self.fields["save_as"]

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        if not upload:
            if self.instance.pk and "title" in self.changed_data:
                self.add_error("title", "The title travels with the file (S3 metadata): upload a new version "
                                        "to change it.")
            return cleaned
        name = (cleaned.get("save_as") or "").strip() or upload.name
        field = "save_as" if cleaned.get("save_as") else "upload"
        try:
            name = validate_name(name)
            if self.instance.pk and suffix_of(self.instance.key) != suffix_of(name):
                raise DocumentError(f"A new version must be a {suffix_of(self.instance.key)} file too.")
            if upload.size > max_bytes():
                raise DocumentError(f"“{name}” is {upload.size / 2**20:.1f} MB; the limit is "
                                    f"{max_bytes() // 2**20} MB.")
            upload.seek(0)
            content = upload.read()
            parse_document(name, content, max_bytes=max_bytes())
        except DocumentError as exc:
            self.add_error(field, str(exc))
            return cleaned
        cleaned["name"], cleaned["content"] = name, content
        return cleaned
