"""Django settings inside the Lambda function: the app's settings from the environment, cut down to what
the refresh touches (the stock-data cache and the market-data provider): no web, database, broker or files."""

import os

# The function serves no requests and signs nothing, but Django wants a key (a real one may still be set).
os.environ.setdefault("SECRET_KEY", "stock-updater-signs-nothing")

from stocktool.settings.base import *  # noqa: E402, F403 (Django settings extend the base; the key first)

INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
S3_ENABLED = SQS_ENABLED = SNS_ENABLED = False
# The refresh's own cache misses would drag the app's CacheHitRate down: its metrics go to the log instead.
CLOUDWATCH_ENABLED = False
# Lambda hands the execution role's temporary keys to the function as environment variables together with
# AWS_SESSION_TOKEN; passing only the two keys on to boto3 would drop the token. The SDK's chain reads all
# three.
AWS_ACCESS_KEY_ID = AWS_SECRET_ACCESS_KEY = None
