"""A fake Telegram Bot API server for tests and benchmarks.

Real clients talk to it over HTTP, unmodified:

    async with FakeBotAPI() as api:
        server = TelegramAPIServer.from_base(api.base_url)
        aiogram_bot = Bot(api.token, session=AiohttpSession(api=server))
        ptb_bot = telegram.Bot(
            api.token, base_url=f"{api.base_url}/bot", base_file_url=f"{api.base_url}/file/bot"
        )

It answers the way Telegram does where clients look (status codes, descriptions,
`parameters.retry_after`), so the clients raise the exceptions they raise in production. It serves
the methods the bot calls and checks what Telegram checks for them: the HTML subset, lengths in
UTF-16 code units, inline keyboards, callback answers, webhook secrets, forum topics. Any other
method answers 404, as an unknown one does in Telegram. Users are simulated by pushing updates,
which it serves to long polling or POSTs to a webhook, retrying like Telegram.

Chats: a positive id is a private chat; a negative one is a supergroup titled "Support" with
topics (a forum), unless make_plain_group() made it an ordinary supergroup. Topics get their thread
ids from the chat's message ids, as in Telegram, where a topic is the service message that created
it.

Deliberate differences from Telegram:
- a bare "&" in HTML is rejected (Telegram keeps it as text); escaping it is always right, and this
  catches text that reached the message unescaped;
- Markdown parse modes are accepted but not checked; whitespace around texts is not trimmed;
- webhook URLs may be plain http on any port, and updates go to the webhook one at a time;
- a webhook's answer is not run as a method call (the bot's webhook answers with none);
- media groups can only hold photos; a 502 comes as JSON (Telegram's nginx sends an HTML page);
- a topic name over 128 characters is refused (Telegram cuts it to 128), so a name built too long
  shows up in tests;
- service messages (topic created, edited, closed) take message ids but are not recorded in `sent`;
- message_thread_id is not checked for private chats.

The modules: `errors` (error answers, injected faults), `html` (the HTML parse mode and entities),
`markup` (keyboards, link previews), `params` (reading a call), `records` (what it keeps),
`users` (updates users cause), `updates` (the queue, long polling, webhook delivery), `server`
(the aiohttp app and the methods).
"""

from bot.testing.botapi.records import CallbackAnswer, ForumTopic, SentMessage
from bot.testing.botapi.server import FakeBotAPI
from bot.testing.botapi.updates import WebhookInfo

__all__ = ["CallbackAnswer", "FakeBotAPI", "ForumTopic", "SentMessage", "WebhookInfo"]
