"""The Lambda functions: each a folder of ``lambda_functions/`` that runs the app's own code, what its zip
carries, the settings it is given and its schedule. ``deploy.py`` ships them; ``packaging.py`` builds the zips."""

from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ROOT = PROJECT_ROOT / "lambda_functions"  # one folder per function

# 21:00 UTC, Monday to Friday: after the US close (16:00 New York is 21:00 UTC in winter, 20:00 in summer).
MARKET_CLOSE = "cron(0 21 ? * MON-FRI *)"


@dataclass(frozen=True)
class LambdaFunction:
    key: str  # the function's name after the resource prefix: "stocktool-" + key
    source: Path  # its folder
    description: str
    packages: tuple[str, ...]  # the project packages it imports, shipped beside the handler
    settings: tuple[str, ...]  # Django settings handed to it as environment variables
    schedule: str | None = None  # an EventBridge schedule expression
    handler: str = "handler.lambda_handler"
    settings_module: str = "lambda_settings"


STOCK_UPDATER = LambdaFunction(
    key="stock-updater",
    source=ROOT / "stock_updater",
    description="StockTool: refresh the watchlist's quotes and history in the stock-data cache",
    packages=("stocktool", "analysis", "monitoring"),
    settings=(
        "DYNAMODB_TABLE_CACHE", "MARKET_DATA_PROVIDER", "MARKET_DATA_TIMEOUT", "MARKET_DATA_TTL_QUOTE",
        "MARKET_DATA_TTL_HISTORY", "WATCHLIST_SYMBOLS", "WATCHLIST_HISTORY_PERIOD", "AWS_MAX_ATTEMPTS",
        "AWS_CONNECT_TIMEOUT", "AWS_READ_TIMEOUT", "LOG_LEVEL",
    ),
    schedule=MARKET_CLOSE,
)

FUNCTIONS = (STOCK_UPDATER,)
