"""Adapters between messengers and the engine. The engine knows none of them."""
