"""Run ReturnDesk with no messenger: the demo, the terminal chat and the tests use it."""

from bot.sandbox.memory import Delivered, MemoryTransport
from bot.sandbox.people import Participant
from bot.sandbox.sandbox import Sandbox

__all__ = ["Delivered", "MemoryTransport", "Participant", "Sandbox"]
