"""WebSocket routes of every app, gathered for the ASGI router."""

from django.urls import path

from analysis.consumers import NotificationsConsumer
from conversations.routing import websocket_urlpatterns as conversations_routes

websocket_urlpatterns: list = [
    path("ws/notifications/", NotificationsConsumer.as_asgi()),
    *conversations_routes,
]
