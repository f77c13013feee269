from collections import deque

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .push import user_group


class NotificationsConsumer(AsyncJsonWebsocketConsumer):
    """Tells a logged-in user's open pages about their events (an analysis finished)."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = user_group(user.pk)
        self.seen: deque[str] = deque(maxlen=256)  # the last event ids sent on this socket
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def notify(self, event):
        """Send an event once per socket: events are published at least once (stocktool/outbox.py), and two
        consumers of the events queue may both push a redelivered one."""
        event_id = event["payload"].get("event_id")
        if event_id:
            if event_id in self.seen:
                return
            self.seen.append(event_id)
        await self.send_json(event["payload"])
