import asyncio

from asgiref.sync import sync_to_async
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health


@never_cache
@require_GET
async def health_view(request):
    """200 when every enabled dependency answers; 503 naming the ones that don't."""
    aws_results, db_result = await asyncio.gather(
        asyncio.to_thread(health.aws_status), sync_to_async(health.database_status)()
    )
    body, status = health.report({"database": db_result, **aws_results})
    return JsonResponse(body, status=status)
