from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .notifications import user_group


class NotificationsConsumer(AsyncJsonWebsocketConsumer):
    """Tells a logged-in user's open pages about their events (an analysis finished)."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def notify(self, event):
        await self.send_json(event["payload"])
