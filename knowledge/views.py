"""Pages: a knowledge document as the assistant cites it (title, passages, each with an anchor)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from .selectors import document_with_passages_get


@login_required
def document_view(request, document_id: int):
    found = document_with_passages_get(document_id=document_id)
    if found is None:
        raise Http404("No such document in the knowledge base.")
    document, passages = found
    return render(request, "knowledge/document.html", {"document": document, "passages": passages})
