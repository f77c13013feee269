"""The chat API: POST /api/chat, GET /api/conversations, GET and DELETE /api/conversations/{id}.

Errors are JSON ``{"error": ...}`` (stocktool.api): 400 for bad input, 404 for a conversation that is not the
caller's (or does not exist, or is not an id), 429 past CHAT_RATE_LIMIT (conversations.ratelimit), 502 when
the model fails, 503 when the store does.
"""

import json

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from stocktool.api import CSRF_FAILED, JSONBodyParser, StrictCharField, error_example, error_responses

from . import selectors, services
from .ratelimit import chat_rate_message, chat_rate_take
from .rendering import markdown_html


class ModelUnavailable(APIException):
    status_code = 502
    default_detail = "The assistant could not answer."


class StoreUnavailable(APIException):
    status_code = 503
    default_detail = "The conversation could not be saved."


SOURCES_HELP = ("What the answer rests on, one object each, every one with kind and title: market_data "
                "(source, as_of, demo, symbols), knowledge (heading, key, version_id, url of the passage) or "
                "analysis (url, as_of).")


class ToolCallSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The tool called: get_stock_quote, get_price_history, "
                                           "compare_stocks, get_company_profile, search_symbols, "
                                           "search_knowledge or start_portfolio_analysis.")
    arguments = serializers.DictField(help_text='The arguments it was called with, e.g. {"symbol": "AAPL"}.')
    ok = serializers.BooleanField(help_text="Whether the tool answered; if not, error says why.")
    elapsed_ms = serializers.FloatField(help_text="How long the call took, in milliseconds.")
    source = serializers.CharField(required=False,
                                   help_text="Where its data came from: the market-data provider (e.g. "
                                             "alphavantage, demo) or StockTool knowledge base.")
    as_of = serializers.CharField(required=False, help_text="When that data was current (UTC, ISO 8601).")
    error = serializers.CharField(required=False, help_text="Why the call failed; only when ok is false.")


class MessageSerializer(serializers.Serializer):
    id = serializers.CharField(help_text='The message\'s id: the UTC time it was stored, "#", a suffix.')
    role = serializers.CharField(help_text="user (a question) or assistant (an answer).")
    content = serializers.CharField(allow_blank=True,
                                    help_text="The question as sent, or the answer in Markdown.")
    created_at = serializers.CharField(required=False, help_text="When it was stored (UTC, ISO 8601).")
    tokens = serializers.IntegerField(required=False, help_text="An answer's tokens, as in ChatReply.tokens.")
    tool_calls = ToolCallSerializer(many=True, required=False,
                                    help_text="An answer's tool calls, in the order they ran.")
    sources = serializers.ListField(child=serializers.DictField(), required=False,
                                    help_text=f"An answer's sources. {SOURCES_HELP}")
    metadata = serializers.DictField(required=False,
                                     help_text="Details of an answer: its cards and model, and how the "
                                               "question was read (e.g. intent, symbols, period, provider).")


class ConversationSerializer(serializers.Serializer):
    conversation_id = serializers.CharField(help_text="The conversation's id: 32 hexadecimal digits.")
    title = serializers.CharField(required=False, allow_blank=True,
                                  help_text="Its first message on one line, cut at 80 characters.")
    created_at = serializers.CharField(required=False, help_text="When it began (UTC, ISO 8601).")
    updated_at = serializers.CharField(required=False,
                                       help_text="When a message was last added (UTC, ISO 8601).")
    message_count = serializers.IntegerField(required=False,
                                             help_text="How many messages it holds, questions and answers.")
    expires_at = serializers.IntegerField(
        required=False, help_text=f"When it expires and is deleted unless continued: Unix time in seconds, "
                                  f"{settings.CHAT_CONVERSATION_TTL_HOURS} h after its last message.")


class ChatRateThrottle(BaseThrottle):
    """CHAT_RATE_LIMIT per user, counted together with the WebSocket and the form (429 with Retry-After)."""

    def allow_request(self, request, view) -> bool:
        self.retry_after = chat_rate_take(user=request.user)
        return self.retry_after is None

    def wait(self) -> int | None:
        return self.retry_after


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": settings.CHAT_MAX_MESSAGE_CHARS})
class MessageField(StrictCharField):
    """The chat message; its checks (with the service's sentences) are in ChatApi.InputSerializer."""


def _conversation_out(header: dict) -> dict:
    keep = ("conversation_id", "title", "created_at", "updated_at", "message_count", "expires_at")
    return {k: header[k] for k in keep if k in header}


_CONVERSATION_ID = "8e9fe55e615e4a7bbbc86840036b78f7"
_QUOTE_ANSWER = ("**AAPL** last traded at **$268.28** (as of 2026-03-02 14:05 UTC), up $0.10 (+0.04%) from "
                 "the previous close of $268.18.\n\n"
                 "_Source: alphavantage market data as of 2026-03-02 14:05 UTC._")
_QUOTE_TOOL_CALL = {"name": "get_stock_quote", "arguments": {"symbol": "AAPL"}, "ok": True,
                    "elapsed_ms": 31.64, "source": "alphavantage", "as_of": "2026-03-02T14:05:09Z"}
_QUOTE_SOURCE = {"kind": "market_data", "title": "alphavantage market data", "source": "alphavantage",
                 "as_of": "2026-03-02T14:05:09Z", "demo": False, "symbols": ["AAPL"]}
_QUOTE_CARD = {"type": "quote", "symbol": "AAPL", "price": 268.28, "change": 0.1, "change_percent": 0.0373,
               "currency": "USD", "trading_day": "2026-02-27", "source": "alphavantage",
               "as_of": "2026-03-02T14:05:09Z", "demo": False}
_HEADER = {"conversation_id": _CONVERSATION_ID, "title": "What is AAPL stock price?",
           "created_at": "2026-03-02T14:05:09.026171Z", "updated_at": "2026-03-02T14:05:09.026171Z",
           "message_count": 2, "expires_at": 1772546709}
_TOO_LONG = (f"The message is {settings.CHAT_MAX_MESSAGE_CHARS + 512:,} characters long; the limit is "
             f"{settings.CHAT_MAX_MESSAGE_CHARS:,}. Shorten it and send it again.")
_NO_CONVERSATION = error_example(404, "No such conversation.", name="No such conversation",
                                 description="Another user's, an expired or an unknown conversation.")
_CONVERSATION_PARAMETER = OpenApiParameter(
    "conversation_id", OpenApiTypes.STR, OpenApiParameter.PATH,
    description="The conversation's id (32 hexadecimal digits), as POST /api/chat answered it.")


class ChatApi(APIView):
    """Ask the assistant; continue a conversation with ``conversation_id``, or start one without it."""

    parser_classes = [JSONBodyParser]  # the one encoding the schema documents (a form can't tell 0 from "0")
    throttle_classes = [ChatRateThrottle]

    def throttled(self, request, wait):
        exc = Throttled(wait)
        exc.detail = chat_rate_message(int(wait))  # the form's and the WebSocket's words, without DRF's suffix
        raise exc

    @extend_schema_serializer(component_name="ChatRequest")
    class InputSerializer(serializers.Serializer):
        message = MessageField(trim_whitespace=False, allow_blank=True,
                               help_text=f"The question, at most {settings.CHAT_MAX_MESSAGE_CHARS:,} characters")
        conversation_id = StrictCharField(
            required=False, allow_null=True, allow_blank=True, max_length=200,
            help_text="The conversation to continue (the conversation_id of an earlier reply); leave it out, "
                      "null or empty to start a new one.")

        def validate_message(self, value):
            limit = services.max_message_chars()
            try:
                if len(value) > limit:  # as sent, as the schema's maxLength says (the service counts text)
                    raise services.ChatInputError(f"The message is {len(value):,} characters long; the limit "
                                                  f"is {limit:,}. Shorten it and send it again.")
                return services.message_validate(value)
            except services.ChatInputError as exc:
                raise ValidationError(str(exc)) from None

    @extend_schema_serializer(component_name="ChatReply")
    class OutputSerializer(serializers.Serializer):
        conversation_id = serializers.CharField(help_text="The conversation this turn belongs to (new or "
                                                          "continued): send it back to continue.")
        message_id = serializers.CharField(help_text="The id of the stored answer (as in Message.id).")
        reply = serializers.CharField(help_text="The answer, Markdown")
        reply_html = serializers.CharField(help_text="The answer as sanitised HTML")
        tool_calls = ToolCallSerializer(many=True,
                                        help_text="The tools the assistant called, in the order they ran.")
        sources = serializers.ListField(child=serializers.DictField(), help_text=SOURCES_HELP)
        cards = serializers.ListField(
            child=serializers.DictField(),
            help_text="Data to show beside the answer, one object each with source, as_of and demo: type "
                      "quote (symbol, price, change, change_percent, currency, trading_day) or history "
                      "(label, series of points, start_date, end_date, growth).")
        model = serializers.CharField(help_text="The model that answered: local-rules (the built-in engine), "
                                                "an OpenAI model name or a Bedrock model id.")
        tokens = serializers.IntegerField(help_text="Tokens of the question and answer (the built-in engine "
                                                    "estimates them).")

    @extend_schema(
        summary="Ask the assistant",
        description=(
            "Sends one message to the assistant and answers once the whole reply is ready (the chat page's "
            "WebSocket streams it instead). Without `conversation_id` a new conversation starts; with one, "
            "the message continues it. The question and the answer are stored together once the answer is "
            "complete, so a failure leaves the conversation as it was.\n\n"
            "Any logged-in user may call it (token, session or basic authentication; a session request needs "
            "its CSRF token); only its owner may continue a conversation: another user's, an expired or an "
            "unknown one is a **404**. The body must be JSON, and `message` must hold 1 to "
            f"{settings.CHAT_MAX_MESSAGE_CHARS:,} characters of text (**400** otherwise).\n\n"
            "Each user may send CHAT_RATE_LIMIT messages (30 a minute by default), counted together with the "
            "chat page and its WebSocket; past that the answer is **429** with `Retry-After` (seconds). "
            "**502** if the model fails, **503** if the conversation store is unavailable."),
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 404, 413, 415, 502, 503, examples={
            400: [error_example(400, "message: The message is empty: type a question first.",
                                {"message": ["The message is empty: type a question first."]},
                                name="Empty message"),
                  error_example(400, f"message: {_TOO_LONG}", {"message": [_TOO_LONG]},
                                name="Message too long")],
            403: CSRF_FAILED,
            404: _NO_CONVERSATION,
            429: error_example(429, chat_rate_message(12), name="Too many messages",
                               description="Sent with Retry-After: 12."),
            502: error_example(502, "The assistant could not answer: the model took too long to answer",
                               name="Model failed"),
            503: error_example(503, "The answer could not be saved, so it is not shown; please try again "
                                    "in a moment.", name="Store unavailable"),
        })},
        examples=[
            OpenApiExample("New conversation", request_only=True,
                           value={"message": "What is AAPL stock price?"}),
            OpenApiExample("Continue a conversation", request_only=True,
                           value={"message": "compare it with MSFT over the last year",
                                  "conversation_id": _CONVERSATION_ID}),
            OpenApiExample("A quote", response_only=True, value={
                "conversation_id": _CONVERSATION_ID, "message_id": "2026-03-02T14:05:09.018145Z#01c6f39a31",
                "reply": _QUOTE_ANSWER, "reply_html": markdown_html(_QUOTE_ANSWER),
                "tool_calls": [_QUOTE_TOOL_CALL], "sources": [_QUOTE_SOURCE], "cards": [_QUOTE_CARD],
                "model": "local-rules", "tokens": 133}),
        ])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = services.chat_send(user=request.user, message=data.validated_data["message"],
                                        conversation_id=data.validated_data.get("conversation_id") or None)
        except services.ChatInputError as exc:
            raise ValidationError({"message": [str(exc)]}) from None
        except services.ConversationNotFound:
            raise NotFound("No such conversation.") from None
        if result["type"] == "error":
            raise (StoreUnavailable if result.get("code") == "storage" else ModelUnavailable)(result["error"])
        return Response(self.OutputSerializer({
            "conversation_id": result["conversation_id"], "message_id": result["message_id"],
            "reply": result["answer"], "reply_html": markdown_html(result["answer"]),
            "tool_calls": result.get("tool_calls") or [], "sources": result.get("sources") or [],
            "cards": result.get("cards") or [], "model": result.get("model") or "", "tokens": result.get("tokens") or 0,
        }).data)


class ConversationListApi(APIView):
    """The caller's conversations, most recently active first."""

    @extend_schema_serializer(component_name="ConversationListQuery")
    class InputSerializer(serializers.Serializer):
        cursor = serializers.CharField(required=False, allow_blank=True, max_length=2000,
                                       help_text="next_cursor of the previous page")
        limit = serializers.IntegerField(min_value=1, max_value=100, default=20,
                                         help_text="Conversations per page, 1 to 100.")

    @extend_schema(
        operation_id="api_conversations_list",
        summary="List your conversations",
        description=(
            "The caller's conversations that have not expired, most recently active first, a page at a time. "
            "To get the next page, pass the page's `next_cursor` as `cursor`; it is null on the last page. A "
            "cursor is opaque and works only for the user it was given to (anything else is a **400**). Any "
            "logged-in user may call it and sees only their own conversations. A conversation expires "
            f"{settings.CHAT_CONVERSATION_TTL_HOURS} h after its last message."),
        parameters=[InputSerializer],
        responses={200: inline_serializer("ConversationPage", {
            "results": ConversationSerializer(
                many=True, help_text="This page's conversations, most recently active first."),
            "next_cursor": serializers.CharField(
                allow_null=True, help_text="Pass as cursor for the next page; null on the last page.")}),
            **error_responses(400, 503, examples={400: error_example(
                400, "cursor: is not a cursor this API gave out",
                {"cursor": ["is not a cursor this API gave out"]}, name="Bad cursor")})},
        examples=[OpenApiExample("A first page", response_only=True, value={
            "results": [_HEADER],
            "next_cursor": json.dumps({"conversation_id": {"S": _CONVERSATION_ID},
                                       "timestamp": {"S": "#meta"}, "user_id": {"S": "42"},
                                       "updated_at": {"S": _HEADER["updated_at"]}})})])
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        try:
            items, next_cursor = selectors.conversation_list_for_user(
                user=request.user, limit=params.validated_data["limit"],
                cursor=params.validated_data.get("cursor") or None)
        except ValueError:
            raise ValidationError({"cursor": ["is not a cursor this API gave out"]}) from None
        return Response({"results": [_conversation_out(h) for h in items], "next_cursor": next_cursor})


class ConversationDetailApi(APIView):
    """One of the caller's conversations with its latest messages; DELETE removes it."""

    @extend_schema_serializer(component_name="ConversationDetailQuery")
    class InputSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=500, default=50,
                                         help_text="How many of the latest messages to return, 1 to 500.")

    @extend_schema(
        summary="Get a conversation",
        description=(
            "One of the caller's conversations: its header and its latest `limit` messages, oldest first. "
            "Each answer carries its tool calls, sources and details (cards, model). Any logged-in user may "
            "call it for their own conversations; another user's, an expired one, or an id that is not 32 "
            "hexadecimal digits is a **404**."),
        parameters=[_CONVERSATION_PARAMETER, InputSerializer],
        responses={200: inline_serializer("ConversationDetail", {
            "conversation": ConversationSerializer(help_text="The conversation's header."),
            "messages": MessageSerializer(many=True, help_text="Its latest messages (at most limit), oldest "
                                                               "first.")}),
            **error_responses(400, 404, 503, examples={
                400: error_example(400, "limit: Ensure this value is less than or equal to 500.",
                                   {"limit": ["Ensure this value is less than or equal to 500."]},
                                   name="Limit out of range"),
                404: _NO_CONVERSATION})},
        examples=[OpenApiExample("A question and its answer", response_only=True, value={
            "conversation": _HEADER,
            "messages": [
                {"id": "2026-03-02T14:05:09.018063Z#00d63e5119", "role": "user",
                 "content": "What is AAPL stock price?", "created_at": "2026-03-02T14:05:09.018063Z"},
                {"id": "2026-03-02T14:05:09.018145Z#01c6f39a31", "role": "assistant",
                 "content": _QUOTE_ANSWER, "created_at": "2026-03-02T14:05:09.018145Z", "tokens": 133,
                 "tool_calls": [_QUOTE_TOOL_CALL], "sources": [_QUOTE_SOURCE],
                 "metadata": {"intent": "quote", "symbols": ["AAPL"], "period": None, "fields": [],
                              "documents": [], "units": [], "provider": "local", "cards": [_QUOTE_CARD],
                              "model": "local-rules"}}]})])
    def get(self, request, conversation_id: str):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        found = selectors.conversation_messages_for_user(user=request.user, conversation_id=conversation_id,
                                                         limit=params.validated_data["limit"])
        if found is None:
            raise NotFound("No such conversation.")
        header, messages = found
        return Response({"conversation": _conversation_out(header), "messages": messages})

    @extend_schema(
        summary="Delete a conversation",
        description=(
            "Deletes one of the caller's conversations with all its messages and answers **204** with no "
            "body. Another user's, an expired or an unknown conversation is a **404**, and nothing is "
            "deleted. Any logged-in user may delete their own conversations; a session request needs its "
            "CSRF token."),
        parameters=[_CONVERSATION_PARAMETER],
        responses={204: None,
                   **error_responses(404, 503, examples={403: CSRF_FAILED, 404: _NO_CONVERSATION})})
    def delete(self, request, conversation_id: str):
        try:
            services.conversation_delete(user=request.user, conversation_id=conversation_id)
        except services.ConversationNotFound:
            raise NotFound("No such conversation.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)
