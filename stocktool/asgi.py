"""ASGI entry point: HTTP through Django, WebSockets through Channels, and the events consumer.

The lifespan protocol starts the events-queue consumer in the server's event loop (EVENTS_LISTENER=web, the
default), so S3 events index documents and finished analyses reach the WebSockets this process holds.
"""

import asyncio
import logging
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stocktool.settings.base")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from stocktool.events import EventsListener  # noqa: E402
from stocktool.lifecycle import process_stop  # noqa: E402
from stocktool.routing import websocket_urlpatterns  # noqa: E402

logger = logging.getLogger(__name__)

http_app = ASGIStaticFilesHandler(django_asgi_app) if settings.SERVE_STATIC else django_asgi_app

router = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)


async def lifespan(receive, send) -> None:
    listener = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if settings.EVENTS_LISTENER == "web" and settings.SQS_ENABLED and settings.SNS_ENABLED:
                listener = EventsListener()
                listener.start()
                logger.info("events consumer started in the web process")
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if listener:
                await listener.close()
            # The server's graceful stop (SIGTERM or SIGINT) ends here; it may then die by the signal, and the
            # exit hook would never run: send the metrics buffered so far now, within a bounded time.
            await asyncio.to_thread(process_stop, settings.MONITORING_SHUTDOWN_SECONDS)
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
    else:
        await router(scope, receive, send)
