"""The conversation engine: neutral events in, neutral messages out, one transaction per update.

It knows no messenger (docs/design.md): adapters in bot.runtime turn Telegram updates into
`Incoming` events and deliver the outbox.
"""
