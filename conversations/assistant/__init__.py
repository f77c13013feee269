"""The assistant: tools over market data and the knowledge base, and the model providers that use them."""
