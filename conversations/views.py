"""Chat pages: the conversation list and new chat (the home page), a conversation, delete, log in and out.

Sending works as a plain form post (no JavaScript): the turn runs, both messages are stored, and the page
redirects to the conversation. With JavaScript, chat.js sends over the WebSocket instead and streams the answer.
"""

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from stocktool.aws import AWSError

from . import selectors, services
from .presentation import message_view
from .ratelimit import chat_rate_message, chat_rate_take

logger = logging.getLogger(__name__)
PAGE_MESSAGES = 50  # the header's window: the latest page is one GetItem
SIDEBAR_CONVERSATIONS = 50
EXAMPLES = ("What is AAPL stock price?", "Compare AAPL, MSFT and NVDA over the last year", "What is a Sharpe ratio?",
            "Tell me about Nvidia", "Analyse my portfolio of 50% AAPL 30% MSFT 20% NVDA")


def _sidebar(request) -> dict:
    """A page of the user's conversations (?page= is the cursor), with links to the next page and back to the
    first; the conversations are None while the store is not answering (the page says so and still works)."""
    cursor = request.GET.get("page") or None
    try:
        try:
            conversations, next_cursor = selectors.conversation_list_for_user(
                user=request.user, limit=SIDEBAR_CONVERSATIONS, cursor=cursor)
        except ValueError:  # not a cursor the list gave out (edited, or another user's): the first page
            cursor = None
            conversations, next_cursor = selectors.conversation_list_for_user(
                user=request.user, limit=SIDEBAR_CONVERSATIONS)
    except AWSError as exc:
        logger.warning("conversation list unavailable: %s", exc)
        return {"conversations": None}
    return {"conversations": conversations,
            "conversations_more": _with_page(request, next_cursor) if next_cursor else None,
            "conversations_first": _with_page(request, None) if cursor else None}


def _with_page(request, cursor: str | None) -> str:
    """This page's address with the list's cursor set (or dropped), the rest of its query kept."""
    query = request.GET.copy()
    query.pop("page", None)
    if cursor:
        query["page"] = cursor
    return f"{request.path}?{query.urlencode()}" if query else request.path


def _not_found(request):
    """The friendly 404 page, rendered here rather than raised: Http404 would show Django's debug page when
    DEBUG is on, and the site's 404.html has no sidebar."""
    return render(request, "conversations/not_found.html",
                  _context(request, ttl_hours=settings.CHAT_CONVERSATION_TTL_HOURS), status=404)


def _send(request, conversation_id: str | None) -> tuple[HttpResponse | None, str | None, int]:
    """Run a posted turn: (the response, None, 0) when it is answered, else (None, the error or None, status);
    a GET is (None, None, 200)."""
    if request.method != "POST":
        return None, None, 200
    message = request.POST.get("message", "")
    retry_after = chat_rate_take(user=request.user)
    if retry_after is not None:
        return None, chat_rate_message(retry_after), 429
    try:
        result = services.chat_send(user=request.user, message=message, conversation_id=conversation_id)
    except services.ChatInputError as exc:
        return None, str(exc), 400
    except services.ConversationNotFound:
        return _not_found(request), None, 0
    if result["type"] == "error":
        return None, result["error"], 503 if result.get("code") == "storage" else 502
    url = reverse("conversation", args=[result["conversation_id"]])
    return redirect(f"{url}#latest"), None, 0


def _context(request, **extra) -> dict:
    return {**_sidebar(request), "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
            "provider": settings.LLM_PROVIDER, **extra}


@login_required
@require_http_methods(["GET", "POST"])
def chat_home_view(request):
    done, error, status = _send(request, None)
    if done:
        return done
    # An example question's link (?q=) puts it in the box, as chat.js does without a reload.
    draft = request.POST.get("message", "") if request.method == "POST" else request.GET.get("q", "")
    return render(request, "conversations/home.html", _context(
        request, error=error, draft=draft[:settings.CHAT_MAX_MESSAGE_CHARS], examples=EXAMPLES),
        status=status)


@login_required
@require_http_methods(["GET", "POST"])
def conversation_view(request, conversation_id: str):
    done, error, status = _send(request, conversation_id)
    if done:
        return done
    before = request.GET.get("before") or None  # an earlier page: the messages before this message id
    if not selectors.message_id_valid(before):
        before = None
    found = selectors.conversation_page_for_user(user=request.user, conversation_id=conversation_id,
                                                 limit=PAGE_MESSAGES, before=before)
    if found is None:
        return _not_found(request)
    header, messages, earlier = found
    return render(request, "conversations/conversation.html", _context(
        request, header=header, conversation_id=conversation_id, messages=[message_view(m) for m in messages],
        earlier=earlier, before=before, error=error, draft=request.POST.get("message", "") if error else ""),
        status=status)


@login_required
@require_POST
def conversation_delete_view(request, conversation_id: str):
    try:
        services.conversation_delete(user=request.user, conversation_id=conversation_id)
    except services.ConversationNotFound:
        return _not_found(request)
    return redirect("home")
