"""The chat WebSocket: the page sends {"message", "conversation_id"}; the answer streams back as events.

Events, in order: "start" (the conversation id), "tool_start"/"tool_end" as tools run, "token" pieces of the
answer as they are produced, then "done" (with the answer rendered as the page renders it) or "error".
"""

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import close_old_connections

from stocktool.aws import AWSError
from stocktool.degraded import MESSAGE as DEGRADED

from . import services
from .presentation import done_message, message_html
from .ratelimit import chat_rate_message, chat_rate_take

_END = object()


def _next(events):
    return next(events, _END)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.busy = False
        await self.accept()

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "code": "input", "error": "Send a JSON object."})
            return
        if self.busy:
            await self.send_json({"type": "error", "code": "busy", "error": "Wait for the answer to finish first."})
            return
        retry_after = await database_sync_to_async(chat_rate_take)(user=self.scope["user"])
        if retry_after is not None:
            await self.send_json({"type": "error", "code": "rate_limited", "error": chat_rate_message(retry_after),
                                  "retry_after": retry_after})
            return
        self.busy = True
        try:
            await self._turn(content.get("message"), content.get("conversation_id") or None)
        finally:
            self.busy = False

    async def _turn(self, message, conversation_id):
        user = self.scope["user"]
        try:
            prepared = await database_sync_to_async(services.chat_prepare)(
                user=user, message=message, conversation_id=conversation_id)
        except services.ChatInputError as exc:
            await self.send_json({"type": "error", "code": "input", "error": str(exc)})
            return
        except services.ConversationNotFound as exc:
            await self.send_json({"type": "error", "code": "not_found", "error": str(exc)})
            return
        except AWSError:
            await self.send_json({"type": "error", "code": "storage", "error": DEGRADED})
            return
        events = services.chat_run(prepared)
        step = sync_to_async(_next, thread_sensitive=True)
        try:
            while (event := await step(events)) is not _END:
                if event["type"] == "done":
                    event = {**event, "html": await sync_to_async(message_html)(done_message(event))}
                await self.send_json(event)
        finally:
            await sync_to_async(close_old_connections)()
