"""Project-wide REST conventions: every error is JSON with a readable ``error`` line."""

from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data and len(data) == 1:
        response.data = {"error": str(data["detail"])}
    elif isinstance(data, dict):
        field, messages = next(iter(data.items()))
        first = messages[0] if isinstance(messages, list) and messages else messages
        response.data = {"error": f"{field}: {first}" if field != "non_field_errors" else str(first), "fields": data}
    else:
        response.data = {"error": str(data[0]) if isinstance(data, list) and data else str(data)}
    return response
