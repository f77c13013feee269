"""Response headers and log lines that protect the site: a Content-Security-Policy, and secrets masked in logs."""

import json
import logging
import secrets
from urllib.parse import quote

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings

REDACTED = "[redacted]"
# Settings whose values never belong in a log line (botocore at DEBUG prints request headers, for one).
SECRET_SETTINGS = ("SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "OPENAI_API_KEY",
                   "ALPHAVANTAGE_API_KEY", "DEMO_PASSWORD")
MIN_SECRET_CHARS = 8  # the emulators' dummy key "test" is no secret, and masking it would garble every line


class ContentSecurityPolicyMiddleware:
    """Give each request a nonce (``request.csp_nonce``) and each response the CONTENT_SECURITY_POLICY header."""

    sync_capable = async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):  # no thread hop under ASGI
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        request.csp_nonce = secrets.token_urlsafe(16)
        return self._add_header(request, self.get_response(request))

    async def _acall(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        return self._add_header(request, await self.get_response(request))

    @staticmethod
    def _add_header(request, response):
        policy = settings.CONTENT_SECURITY_POLICY
        if policy:
            response.headers.setdefault("Content-Security-Policy", policy.replace("{nonce}", request.csp_nonce))
        return response


_known: tuple[tuple, list[str]] = ((), [])


def secret_values() -> list[str]:
    """The configured secrets as they may appear in a line: raw, URL-quoted and JSON-escaped; longest first."""
    global _known
    if not settings.configured:
        return []
    database_password = settings.DATABASES.get("default", {}).get("PASSWORD")
    raw = tuple(getattr(settings, name, None) for name in SECRET_SETTINGS) + (database_password,)
    if raw != _known[0]:
        found = {form for value in raw if isinstance(value, str) and len(value) >= MIN_SECRET_CHARS
                 for form in (value, quote(value, safe=""), json.dumps(value)[1:-1])}
        _known = (raw, sorted(found, key=len, reverse=True))
    return _known[1]


def redact(text: str) -> str:
    for value in secret_values():
        if value in text:
            text = text.replace(value, REDACTED)
    return text


class RedactingStreamHandler(logging.StreamHandler):
    """A StreamHandler that masks secrets in the formatted line: message, extras and traceback alike."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
