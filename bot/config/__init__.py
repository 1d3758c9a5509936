"""Settings from the environment, and the shop file: sellers, support and their policies."""
