"""The support desk: escalated cases worked in a Telegram forum, one topic per case."""
