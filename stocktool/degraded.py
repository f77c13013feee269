"""What a request answers when AWS does not: a clear 503, never a 500 or a hang.

Views catch the AWS failures they can work around (the chat page still renders without its conversation list);
this middleware answers the rest: ``{"error": ...}`` with 503 under ``/api/``, a page saying what is unavailable
elsewhere, both with ``Retry-After``. The circuit breaker (stocktool/aws/breaker.py) makes these answers fast
once an endpoint is known to be down.
"""

import logging

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from stocktool.aws import AWSError

logger = logging.getLogger(__name__)

MESSAGE = ("StockTool's storage is not answering right now, so this part of the app is unavailable. "
           "Nothing you saved is lost; please try again in a moment.")
RETRY_AFTER = "5"


class AWSUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, AWSError):
            return None
        logger.warning("%s %s answered 503: %s", request.method, request.path, exception)
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse({"error": MESSAGE}, status=503)
        else:
            response = render(request, "503.html", {"message": MESSAGE}, status=503)
        response["Retry-After"] = RETRY_AFTER
        return response
