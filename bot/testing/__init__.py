"""Test doubles for the outside world: `bot.testing.botapi.FakeBotAPI` plays Telegram."""
