"""Market data and the scheduled stock refresh (a Lambda function or Celery beat); base.py takes these in."""

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from .env import env, env_int, env_str, env_url

# --- Market data ------------------------------------------------------------------------------------------
# demo (the default) is a deterministic offline market; alphavantage needs a key (a free one: 25 requests a day).
MARKET_DATA_PROVIDER = env_str("MARKET_DATA_PROVIDER", "demo", choices=("demo", "alphavantage"))
ALPHAVANTAGE_API_KEY = env.str("ALPHAVANTAGE_API_KEY", default="")
if MARKET_DATA_PROVIDER == "alphavantage" and not ALPHAVANTAGE_API_KEY:
    raise ImproperlyConfigured("ALPHAVANTAGE_API_KEY must be set when MARKET_DATA_PROVIDER=alphavantage")
ALPHAVANTAGE_BASE_URL = env_url("ALPHAVANTAGE_BASE_URL", "https://www.alphavantage.co")
MARKET_DATA_TIMEOUT = env_int("MARKET_DATA_TIMEOUT", 10, minimum=1, maximum=120)
# Seconds an answer stays in the stock-data cache (DynamoDB, or a process-local dict without DynamoDB).
MARKET_DATA_TTL_QUOTE = env_int("MARKET_DATA_TTL_QUOTE", 300, minimum=1)
MARKET_DATA_TTL_HISTORY = env_int("MARKET_DATA_TTL_HISTORY", 12 * 3600, minimum=1)
MARKET_DATA_TTL_PROFILE = env_int("MARKET_DATA_TTL_PROFILE", 7 * 86400, minimum=1)
MARKET_DATA_TTL_SEARCH = env_int("MARKET_DATA_TTL_SEARCH", 86400, minimum=1)

# --- Scheduled stock refresh at market close: a Lambda function (deploy_lambdas) or Celery beat --------------
# The symbols whose quote and daily history the refresh puts into the stock-data cache (docs/deployment.md).
WATCHLIST_SYMBOLS = env.list("WATCHLIST_SYMBOLS", default=["SPY", "AAPL", "MSFT", "GOOGL", "AMZN", "NVDA"])
WATCHLIST_HISTORY_PERIOD = env_str("WATCHLIST_HISTORY_PERIOD", "1y",
                                   choices=("1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"))
# Where Lambda is not wanted, `celery -A stocktool beat` sends the refresh at the time of the function's
# EventBridge rule, cron(0 21 ? * MON-FRI *): 21:00 UTC, Monday to Friday. Run one of the two, not both.
CELERY_BEAT_SCHEDULE = {
    "stock-refresh-market-close": {
        "task": "analysis.tasks.stock_refresh_task",
        "schedule": crontab(minute=0, hour=21, day_of_week="mon-fri"),
    },
}
# deploy_lambdas: runtime and size of the functions; an existing execution role to use (else one is created
# per function); the AWS endpoint as the function sees it (LocalStack; unset on AWS).
LAMBDA_RUNTIME = env_str("LAMBDA_RUNTIME", "python3.11", choices=("python3.11", "python3.12", "python3.13"))
LAMBDA_ARCHITECTURE = env_str("LAMBDA_ARCHITECTURE", "x86_64", choices=("x86_64", "arm64"))
LAMBDA_MEMORY_MB = env_int("LAMBDA_MEMORY_MB", 256, minimum=128, maximum=10240)
LAMBDA_TIMEOUT = env_int("LAMBDA_TIMEOUT", 300, minimum=1, maximum=900)
LAMBDA_ROLE_ARN = env.str("LAMBDA_ROLE_ARN", default="")
LAMBDA_ENDPOINT_URL = env_url("LAMBDA_ENDPOINT_URL")
