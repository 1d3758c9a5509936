"""Run ReturnDesk with no messenger: the demo, the terminal chat and the tests use it.

Not one of the runtimes (bot/runtime): it is a harness that people drive from a script, a
terminal or a test, and it is built from the runtime's outbox sender, so it sits above the
runtimes in the layers (pyproject.toml). The Telegram tests reuse its in-memory pieces.
"""

from bot.sandbox.memory import Delivered, MemoryTransport
from bot.sandbox.people import Participant
from bot.sandbox.sandbox import Sandbox

__all__ = ["Delivered", "MemoryTransport", "Participant", "Sandbox"]
