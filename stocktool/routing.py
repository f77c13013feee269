"""WebSocket routes of every app, gathered for the ASGI router."""

from django.urls import path

from analysis.consumers import NotificationsConsumer

websocket_urlpatterns: list = [
    path("ws/notifications/", NotificationsConsumer.as_asgi()),
]
