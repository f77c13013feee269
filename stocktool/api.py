"""Project-wide REST conventions: every error is JSON with a readable ``error`` line; the schema says so."""

import io

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.views import exception_handler as drf_exception_handler

from stocktool.degraded import MESSAGE as STORAGE_DOWN

ERROR = inline_serializer("Error", {
    "error": serializers.CharField(help_text="One readable line saying what went wrong; for bad input it "
                                             "usually starts with the field's name and a colon."),
    "fields": serializers.DictField(
        required=False, help_text="Only on a 400 for bad input: each invalid field (or query parameter) with "
                                  "its list of messages; an invalid list item's messages are keyed by its "
                                  "index."),
})
_MEANINGS = {
    400: "Bad input: a field is missing, malformed, out of range or too long",
    401: "Not logged in, or the credentials are wrong (see WWW-Authenticate: Token; session and basic work too)",
    403: "Not allowed (not staff, or a session request without its CSRF token)",
    404: "Not found, or not yours",
    405: "Method not allowed",
    413: "Request body too large",
    415: "Unsupported media type",
    429: "Too many requests; see Retry-After",
    502: "An upstream service (the language model) failed",
    503: "A backing service (AWS) is unavailable; try again",
}
AUTH = (401, 403, 429)  # every authenticated operation may answer these
# What each status's body typically says, for the examples of operations that give no example of their own.
_TYPICAL = {
    401: ("Not logged in", "Authentication credentials were not provided."),
    403: ("Not allowed", "You do not have permission to perform this action."),
    404: ("Not found", "Not found."),
    405: ("Wrong method", 'Method "PUT" not allowed.'),
    413: ("Body too large", None),  # the limit is read from the settings when the responses are built
    415: ("Not JSON", 'Unsupported media type "application/x-www-form-urlencoded" in request.'),
    429: ("Throttled", "Request was throttled. Expected available in 12 seconds."),
    502: ("Model failed", "The assistant could not answer."),
    503: ("Storage unavailable", STORAGE_DOWN),
}


class StrictCharField(serializers.CharField):
    """A CharField that takes only JSON strings, as its schema says (DRF's turns 0 into "0")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class JSONBodyParser(JSONParser):
    """DRF's JSON parser within Django's DATA_UPLOAD_MAX_MEMORY_SIZE (DRF reads the stream past it) and with a
    400 for nesting too deep for Python's parser (a RecursionError, a 500, in DRF's)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            data = stream.read(limit + 1) if stream is not None else b""
            if len(data) > limit:
                raise BodyTooLarge(f"The request body is over {limit:,} bytes.")
            stream = io.BytesIO(data)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None


def error_example(status_code: int, error: str, fields: dict | None = None, *, name: str = "",
                  description: str = "") -> OpenApiExample:
    """An example ``Error`` body for one status: ``{"error": error}`` plus ``fields`` when given."""
    value = {"error": error} | ({"fields": fields} if fields is not None else {})
    return OpenApiExample(name or f"{status_code} error", value=value, description=description,
                          status_codes=[str(status_code)], response_only=True)


CSRF_FAILED = error_example(
    403, "CSRF Failed: CSRF token missing.", name="No CSRF token",
    description="A session (cookie) request that changes something needs its X-CSRFToken header; token and "
                "basic authentication need none.")


def error_responses(*codes: int, examples: dict | None = None) -> dict:
    """Schema responses for ``codes`` (plus 401, 403 and 429), each a JSON ``Error`` body with an example.

    ``examples`` maps a status to the operation's own example(s) (``error_example``); a status without one
    gets the body it typically has (``_TYPICAL``). A 400 has no typical body: give the operation's own.
    """
    examples = examples or {}
    out = {}
    for code in sorted({*codes, *AUTH}):
        given = examples.get(code)
        if given is None and code in _TYPICAL:
            given = [error_example(code, _typical_error(code), name=_TYPICAL[code][0])]
        given = [given] if isinstance(given, OpenApiExample) else list(given or [])
        out[code] = OpenApiResponse(ERROR, description=_MEANINGS[code], examples=given)
    return out


def _typical_error(code: int) -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if code == 413 and limit is not None:  # as bad_request_view and JSONBodyParser word it
        return f"The request body is over {limit:,} bytes."
    return _TYPICAL[code][1] or "The request body is too large."


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data and len(data) == 1:
        response.data = {"error": str(data["detail"])}
    elif isinstance(data, dict):
        field, messages = next(iter(data.items()))
        first = _first_message(messages)
        line = first if field == "non_field_errors" else f"{field}: {first}"
        response.data = {"error": line, "fields": data}
    else:
        response.data = {"error": _first_message(data)}
    return response


def _first_message(errors) -> str:
    """The first message in DRF's nested errors (a list item's are ``{index: [...]}``)."""
    while isinstance(errors, dict | list) and errors:
        errors = next(iter(errors.values())) if isinstance(errors, dict) else errors[0]
    return str(errors)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


# Django's own error pages (a URL no route matches, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, a crash) answer
# JSON under /api/, like the views do, and HTML elsewhere.
def bad_request_view(request, exception=None):
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return JsonResponse({"error": f"The request body is over {limit:,} bytes."}, status=413)
    return JsonResponse({"error": str(exception) if exception else "Bad request."}, status=400)


def not_found_view(request, exception=None):
    if _is_api(request):
        return JsonResponse({"error": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error_view(request):
    if _is_api(request):
        return JsonResponse({"error": "Internal error; it has been logged."}, status=500)
    return defaults.server_error(request)
