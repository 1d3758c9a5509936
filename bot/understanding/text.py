"""Words from a message: its language, its order numbers, and tokens reduced to stems (Snowball
for English and Russian) or segmented words (jieba for Chinese)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache

import jieba
import snowballstemmer

LANGUAGES = ("en", "ru", "zh")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# The shapes of marketplace order numbers (OZ-1001, A-1001, WB-77812, 1234567-0001): a short
# Latin prefix and at least three digits, or five digits or more, each with optional "-digits"
# parts; "#" or "№" may precede it. ASCII lookarounds, since Chinese writes the number straight
# after a word ("取消订单OZ-1001").
ORDER_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_-])[#№]?\s?((?:[A-Za-z]{1,5}-?\d{3,}|\d{5,})(?:-\d+)*)(?![A-Za-z0-9_-])"
)
_WORD = re.compile(r"\w+", re.UNICODE)
_APOSTROPHE = re.compile(r"(?<=\w)['’](?=\w)")
_STEMMERS = {"en": "english", "ru": "russian"}
# jieba announces building its dictionary on stderr, which `returndesk understand` keeps for errors.
jieba.setLogLevel(logging.WARNING)


def detect_language(text: str) -> str:
    """By script: Cyrillic is Russian, Chinese characters are Chinese, anything else English."""
    if _CJK.search(text):
        return "zh"
    if _CYRILLIC.search(text):
        return "ru"
    return "en"


def order_numbers(text: str) -> list[str]:
    return [match.group(1) for match in ORDER_NUMBER.finditer(text)]


def without_order_numbers(text: str) -> str:
    return ORDER_NUMBER.sub(" ", text)


def normalise(text: str) -> str:
    # "ё" is written as "е" as often as not; "don't" and "dont" are one word to a buyer.
    return _APOSTROPHE.sub("", text.lower().replace("ё", "е"))


@lru_cache(maxsize=4)
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(_STEMMERS[language])


class Segmenter:
    """jieba's tokenizer with the lexicon's phrases as words, so "转人工" or "数据线" stay whole."""

    def __init__(self, words: Iterable[str]) -> None:
        self._tokenizer = jieba.Tokenizer()
        self._tokenizer.initialize()  # loads jieba's dictionary once, at start (a second or so)
        for word in words:
            self._tokenizer.add_word(word, freq=100_000)

    def words(self, text: str) -> list[str]:
        return [w for w in self._tokenizer.lcut(text) if w.strip() and _WORD.match(w)]


def words_of(text: str) -> list[str]:
    return list(_WORD.findall(normalise(text)))


def stems(text: str, language: str) -> list[str]:
    """An English or Russian text's words as Snowball stems, lower case, one a word."""
    words = words_of(text)
    return list(_stemmer(language).stemWords(words)) if words else []
