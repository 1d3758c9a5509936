"""The conversation engine: neutral events in, neutral messages out, one transaction per update.

It knows no messenger (DESIGN decision 1): adapters in bot.runtime turn Telegram updates into
`Incoming` events and deliver the outbox.
"""
