"""The chat API: POST /api/chat, GET /api/conversations, GET and DELETE /api/conversations/{id}.

Errors are JSON ``{"error": ...}`` (stocktool.api): 400 for bad input, 404 for a conversation that is not the
caller's (or does not exist, or is not an id), 429 past CHAT_RATE_LIMIT (conversations.ratelimit), 502 when
the model fails, 503 when the store does.
"""

from django.conf import settings
from drf_spectacular.utils import (extend_schema, extend_schema_field, extend_schema_serializer,
                                   inline_serializer)
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from stocktool.api import JSONBodyParser, StrictCharField, error_responses

from . import selectors, services
from .ratelimit import chat_rate_message, chat_rate_take
from .rendering import markdown_html


class ModelUnavailable(APIException):
    status_code = 502
    default_detail = "The assistant could not answer."


class StoreUnavailable(APIException):
    status_code = 503
    default_detail = "The conversation could not be saved."


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


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": settings.CHAT_MAX_MESSAGE_CHARS})
class MessageField(StrictCharField):
    """The chat message; its checks (with the service's sentences) are in ChatApi.InputSerializer."""


def _conversation_out(header: dict) -> dict:
    keep = ("conversation_id", "title", "created_at", "updated_at", "message_count", "expires_at")
    return {k: header[k] for k in keep if k in header}


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
        conversation_id = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=200)

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
        conversation_id = serializers.CharField()
        message_id = serializers.CharField()
        reply = serializers.CharField(help_text="The answer, Markdown")
        reply_html = serializers.CharField(help_text="The answer as sanitised HTML")
        tool_calls = ToolCallSerializer(many=True)
        sources = serializers.ListField(child=serializers.DictField())
        cards = serializers.ListField(child=serializers.DictField())
        model = serializers.CharField()
        tokens = serializers.IntegerField()

    @extend_schema(request=InputSerializer,
                   responses={200: OutputSerializer, **error_responses(400, 404, 413, 415, 502, 503)})
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
        limit = serializers.IntegerField(min_value=1, max_value=100, default=20)

    @extend_schema(operation_id="api_conversations_list", parameters=[InputSerializer],
                   responses={200: inline_serializer("ConversationPage", {
                       "results": ConversationSerializer(many=True), "next_cursor": serializers.CharField(allow_null=True)}),
                       **error_responses(400, 503)})
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
        limit = serializers.IntegerField(min_value=1, max_value=500, default=50, help_text="messages")

    @extend_schema(parameters=[InputSerializer],
                   responses={200: inline_serializer("ConversationDetail", {
                       "conversation": ConversationSerializer(), "messages": MessageSerializer(many=True)}),
                       **error_responses(400, 404, 503)})
    def get(self, request, conversation_id: str):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        found = selectors.conversation_messages_for_user(user=request.user, conversation_id=conversation_id,
                                                         limit=params.validated_data["limit"])
        if found is None:
            raise NotFound("No such conversation.")
        header, messages = found
        return Response({"conversation": _conversation_out(header), "messages": messages})

    @extend_schema(responses={204: None, **error_responses(404, 503)})
    def delete(self, request, conversation_id: str):
        try:
            services.conversation_delete(user=request.user, conversation_id=conversation_id)
        except services.ConversationNotFound:
            raise NotFound("No such conversation.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)
