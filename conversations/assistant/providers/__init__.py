"""Model providers behind one interface; ``LLM_PROVIDER`` picks one."""

from django.conf import settings

from ..engine import LocalProvider
from ..provider import Provider, ProviderError, Turn

PROVIDERS = ("local", "openai", "bedrock")


def provider_get(name: str | None = None) -> Provider:
    """The provider ``LLM_PROVIDER`` names (or ``name``), configured from settings."""
    name = name or getattr(settings, "LLM_PROVIDER", "local")
    if name == "local":
        return LocalProvider()
    if name == "openai":
        from .openai import OpenAIProvider  # (only when chosen: the openai SDK takes 0.5 s to import)

        return OpenAIProvider(
            api_key=settings.OPENAI_API_KEY, base_url=settings.OPENAI_BASE_URL, model=settings.OPENAI_MODEL,
            timeout=settings.OPENAI_TIMEOUT, max_retries=settings.OPENAI_MAX_RETRIES,
            context_tokens=settings.OPENAI_CONTEXT_TOKENS, max_tokens=settings.OPENAI_MAX_TOKENS,
        )
    if name == "bedrock":
        from .bedrock import BedrockProvider  # (only when chosen, as the OpenAI one)

        return BedrockProvider(
            model=settings.BEDROCK_MODEL_ID, streaming=settings.BEDROCK_STREAMING,
            context_tokens=settings.BEDROCK_CONTEXT_TOKENS, max_tokens=settings.BEDROCK_MAX_TOKENS,
        )
    raise ProviderError(f"unknown LLM_PROVIDER {name!r} (use one of {', '.join(PROVIDERS)})")


__all__ = ["PROVIDERS", "Provider", "ProviderError", "Turn", "provider_get"]
