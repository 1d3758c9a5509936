"""The processes of a running bot: the Telegram service, the sweeper loop, the outbox sender.

Above the app in the layers (pyproject.toml, docs/design.md): a runtime builds on the app and
the engine and nothing below imports it; only the command line, the sandbox (bot/sandbox, the
in-memory harness of `returndesk chat`, the demo and the tests) and the test Bot API server sit
higher. Messenger adapters live here too; the engine knows none of them.
"""
