"""Project-wide REST conventions: every error is JSON with a readable ``error`` line; the schema says so."""

import io

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.views import exception_handler as drf_exception_handler

ERROR = inline_serializer("Error", {
    "error": serializers.CharField(help_text="one readable line"),
    "fields": serializers.DictField(required=False, help_text="every invalid field with its messages"),
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


def error_responses(*codes: int) -> dict:
    """Schema responses for ``codes`` (plus 401, 403 and 429), each a JSON ``Error`` body."""
    return {code: OpenApiResponse(ERROR, description=_MEANINGS[code]) for code in sorted({*codes, *AUTH})}


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
