"""The chat API: POST /api/chat, GET /api/conversations, GET and DELETE /api/conversations/{id}.

Errors are JSON ``{"error": ...}`` (stocktool.api): 400 for bad input, 404 for a conversation that is not the
caller's (or does not exist, or is not an id), 429 past CHAT_RATE_LIMIT (conversations.ratelimit), 502 when
the model fails, 503 when the store does.
"""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from . import selectors, services
from .ratelimit import chat_rate_message, chat_rate_take
from .rendering import markdown_html


class ModelUnavailable(APIException):
    status_code = 502
    default_detail = "The assistant could not answer."


class StoreUnavailable(APIException):
    status_code = 503
    default_detail = "The conversation could not be saved."


ERROR = inline_serializer("Error", {"error": serializers.CharField(), "fields": serializers.DictField(required=False)})


class ToolCallSerializer(serializers.Serializer):
    name = serializers.CharField()
    arguments = serializers.DictField()
    ok = serializers.BooleanField()
    elapsed_ms = serializers.FloatField()
    source = serializers.CharField(required=False)
    as_of = serializers.CharField(required=False)
    error = serializers.CharField(required=False)


class MessageSerializer(serializers.Serializer):
    id = serializers.CharField()
    role = serializers.CharField()
    content = serializers.CharField(allow_blank=True)
    created_at = serializers.CharField(required=False)
    tool_calls = ToolCallSerializer(many=True, required=False)
    sources = serializers.ListField(child=serializers.DictField(), required=False)
    metadata = serializers.DictField(required=False)


class ConversationSerializer(serializers.Serializer):
    conversation_id = serializers.CharField()
    title = serializers.CharField(required=False, allow_blank=True)
    created_at = serializers.CharField(required=False)
    updated_at = serializers.CharField(required=False)
    message_count = serializers.IntegerField(required=False)
    expires_at = serializers.IntegerField(required=False)


class ChatRateThrottle(BaseThrottle):
    """CHAT_RATE_LIMIT per user, counted together with the WebSocket and the form (429 with Retry-After)."""

    def allow_request(self, request, view) -> bool:
        self.retry_after = chat_rate_take(user=request.user)
        return self.retry_after is None

    def wait(self) -> int | None:
        return self.retry_after


def _conversation_out(header: dict) -> dict:
    keep = ("conversation_id", "title", "created_at", "updated_at", "message_count", "expires_at")
    return {k: header[k] for k in keep if k in header}


class ChatApi(APIView):
    """Ask the assistant; continue a conversation with ``conversation_id``, or start one without it."""

    throttle_classes = [ChatRateThrottle]

    def throttled(self, request, wait):
        exc = Throttled(wait)
        exc.detail = chat_rate_message(int(wait))  # the form's and the WebSocket's words, without DRF's suffix
        raise exc

    class InputSerializer(serializers.Serializer):
        message = serializers.CharField(trim_whitespace=False, allow_blank=True,
                                        help_text=f"The question, at most {settings.CHAT_MAX_MESSAGE_CHARS:,} characters")
        conversation_id = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=200)

    class OutputSerializer(serializers.Serializer):
        conversation_id = serializers.CharField()
        message_id = serializers.CharField()
        reply = serializers.CharField(help_text="The answer, Markdown")
        reply_html = serializers.CharField(help_text="The answer as sanitised HTML")
        tool_calls = ToolCallSerializer(many=True)
        sources = serializers.ListField(child=serializers.DictField())
        cards = serializers.ListField(child=serializers.DictField())
        model = serializers.CharField()
        tokens = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer, 400: ERROR, 404: ERROR, 502: ERROR,
                                                       503: ERROR})
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

    @extend_schema(parameters=[OpenApiParameter("cursor", str, description="next_cursor of the previous page"),
                               OpenApiParameter("limit", int, description="1-100, default 20")],
                   responses={200: inline_serializer("ConversationPage", {
                       "results": ConversationSerializer(many=True), "next_cursor": serializers.CharField(allow_null=True)})})
    def get(self, request):
        try:
            limit = max(1, min(int(request.query_params.get("limit", 20)), 100))
        except ValueError:
            raise ValidationError({"limit": ["must be a whole number from 1 to 100"]}) from None
        cursor = request.query_params.get("cursor") or None
        try:
            items, next_cursor = selectors.conversation_list_for_user(user=request.user, limit=limit, cursor=cursor)
        except ValueError:
            raise ValidationError({"cursor": ["is not a cursor this API gave out"]}) from None
        return Response({"results": [_conversation_out(h) for h in items], "next_cursor": next_cursor})


class ConversationDetailApi(APIView):
    """One of the caller's conversations with its latest messages; DELETE removes it."""

    @extend_schema(parameters=[OpenApiParameter("limit", int, description="messages, 1-500, default 50")],
                   responses={200: inline_serializer("ConversationDetail", {
                       "conversation": ConversationSerializer(), "messages": MessageSerializer(many=True)}),
                       404: ERROR})
    def get(self, request, conversation_id: str):
        try:
            limit = max(1, min(int(request.query_params.get("limit", 50)), 500))
        except ValueError:
            raise ValidationError({"limit": ["must be a whole number from 1 to 500"]}) from None
        found = selectors.conversation_messages_for_user(user=request.user, conversation_id=conversation_id,
                                                         limit=limit)
        if found is None:
            raise NotFound("No such conversation.")
        header, messages = found
        return Response({"conversation": _conversation_out(header), "messages": messages})

    @extend_schema(responses={204: None, 404: ERROR})
    def delete(self, request, conversation_id: str):
        try:
            services.conversation_delete(user=request.user, conversation_id=conversation_id)
        except services.ConversationNotFound:
            raise NotFound("No such conversation.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)
