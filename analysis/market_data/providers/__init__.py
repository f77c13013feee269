from django.conf import settings

from ..errors import ProviderUnavailable
from .alphavantage import AlphaVantageProvider
from .base import Provider
from .demo import DemoProvider

PROVIDERS = ("demo", "alphavantage")


def provider_get(name: str | None = None) -> Provider:
    """Return the provider ``MARKET_DATA_PROVIDER`` names (or ``name``), configured from settings."""
    name = name or settings.MARKET_DATA_PROVIDER
    if name == "demo":
        return DemoProvider()
    if name == "alphavantage":
        return AlphaVantageProvider(
            api_key=settings.ALPHAVANTAGE_API_KEY,
            base_url=settings.ALPHAVANTAGE_BASE_URL,
            timeout=settings.MARKET_DATA_TIMEOUT,
        )
    raise ProviderUnavailable(f"unknown market data provider {name!r} (use one of {', '.join(PROVIDERS)})")


__all__ = ["PROVIDERS", "AlphaVantageProvider", "DemoProvider", "Provider", "provider_get"]
