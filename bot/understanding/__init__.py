"""What a buyer means by the words they type: an intent, a reason from the product's list and an
order number (docs/understanding.md).

Pure: no database, no engine, no network. The offline default (`LexiconUnderstander`) works from
per-language lexicon files beside the templates, which a seller can extend; a hosted language
model can take its place behind the `Understander` protocol.
"""

from bot.understanding.lexicon import Lexicon, load_lexicons
from bot.understanding.model import INTENTS, Intent, Understander, Understanding
from bot.understanding.offline import LexiconUnderstander
from bot.understanding.text import LANGUAGES, detect_language, order_numbers

__all__ = [
    "INTENTS",
    "LANGUAGES",
    "Intent",
    "Lexicon",
    "LexiconUnderstander",
    "Understander",
    "Understanding",
    "detect_language",
    "load_lexicons",
    "order_numbers",
]
