"""The offline understander: stems or segmented words, matched against the lexicons, typos
forgiven by fuzzy matching (rapidfuzz). Deterministic, and a few hundred microseconds a message
once built (benchmarks/understanding.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from rapidfuzz import fuzz, process

from bot.domain.enums import CANCEL_REASONS, Reason
from bot.understanding.lexicon import Lexicon, load_lexicons
from bot.understanding.model import Intent, Understanding
from bot.understanding.text import (
    LANGUAGES,
    Segmenter,
    normalise,
    order_numbers,
    stems,
    without_order_numbers,
    words_of,
)

# A misspelt word counts as a lexicon word this close to it (rapidfuzz's ratio, 0-100); shorter
# words must be exact, since one letter changes them into other words.
FUZZY_CUTOFF = 80
FUZZY_MIN_LENGTH = 4
_NOT_WORDS = re.compile(r"[\W_]+")
# When two intents match equally, the earlier wins: asking for a person is never missed, and
# saying what to do with an order outweighs words around it.
PRIORITY = (
    Intent.PERSON,
    Intent.CANCEL,
    Intent.RETURN,
    Intent.STATUS,
    Intent.ORDERS,
    Intent.PROBLEM,
    Intent.GREETING,
)
# Stems that only turn another word around; never a phrase on their own.
NEGATIONS = {"не", "not", "no", "dont", "doesnt", "didnt", "wont"}
# Intents that give way to any other intent or reason in the same message: "cancel my order"
# names an order but asks to cancel, "hi, the cable is missing" is about the cable.
WEAK = (Intent.GREETING, Intent.ORDERS)
# The flow a reason alone points to, when no intent's words are there.
REASON_INTENT = {
    Reason.FOUND_CHEAPER: Intent.CANCEL,
    Reason.ORDERED_BY_MISTAKE: Intent.CANCEL,
    Reason.DELIVERY_TOO_LATE: Intent.CANCEL,
    Reason.CHANGED_MIND: Intent.RETURN,
}
# The same complaint said in another flow's words (docs/conversations.md#cancel-reasons).
IN_FLOW = {
    Intent.CANCEL: {Reason.LATE_DELIVERY: Reason.DELIVERY_TOO_LATE},
    Intent.PROBLEM: {Reason.DELIVERY_TOO_LATE: Reason.LATE_DELIVERY},
    Intent.RETURN: {Reason.ORDERED_BY_MISTAKE: Reason.CHANGED_MIND},
}


@dataclass(frozen=True, slots=True)
class _Phrase:
    label: Intent | Reason
    parts: tuple[str, ...]  # stems (en, ru) or words (zh), all of which must be present


class _Language:
    """One language's lexicon, compiled: phrases as stems, and the vocabulary typos snap to."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.code = lexicon.language
        self.segmenter: Segmenter | None = None
        labelled: list[tuple[Intent | Reason, str]] = [
            *((i, p) for i, phrases in lexicon.intents.items() for p in phrases),
            *((r, p) for r, phrases in lexicon.reasons.items() for p in phrases),
        ]
        if self.code == "zh":
            self.stopwords = set(lexicon.stopwords)
            words = {part for _, p in labelled for part in p.split()}
            self.segmenter = Segmenter(words | self.stopwords)
        else:
            self.stopwords = {s for w in lexicon.stopwords for s in stems(w, self.code)}
        self.phrases = [_Phrase(label, parts) for label, p in labelled if (parts := self._parts(p))]
        self.vocabulary = sorted({part for phrase in self.phrases for part in phrase.parts})
        self._known = set(self.vocabulary)
        # Whole words of the phrases with their stems: a typo changes a word's stem unpredictably
        # ("mising" stems to "mise"), so it is compared with the words as written too.
        self._spelled: dict[str, str] = {}
        if self.segmenter is None:
            for _, p in labelled:
                for word in words_of(p):
                    stem = stems(word, self.code)
                    if stem and stem[0] in self._known:
                        self._spelled.setdefault(word, stem[0])
        self._spellings = sorted(self._spelled)

    def _parts(self, phrase: str) -> tuple[str, ...]:
        if self.code == "zh":
            return tuple(normalise(phrase).split())
        every = tuple(stems(phrase, self.code))
        meant = tuple(s for s in every if s not in self.stopwords)
        # "не то" or "не так" without their small words would be a bare "не", found everywhere.
        return meant if set(meant) - NEGATIONS else every

    def words(self, text: str) -> tuple[set[str], str, bool]:
        """The message's words as the lexicon spells them, its joined text, and whether a typo
        had to be forgiven."""
        clean = normalise(without_order_numbers(text))
        if self.segmenter is not None:
            return set(self.segmenter.words(clean)), "".join(clean.split()), False
        found: set[str] = set()
        forgiven = False
        written = words_of(clean)
        for word, stem in zip(written, stems(clean, self.code), strict=True):
            if stem in self._known or stem in self.stopwords or len(word) < FUZZY_MIN_LENGTH:
                found.add(stem)
                continue
            known = self._forgiven(word, stem)
            found.add(known or stem)
            forgiven = forgiven or known is not None
        return found, clean, forgiven

    def _forgiven(self, word: str, stem: str) -> str | None:
        """The lexicon's stem a misspelt word stands for, if one is close enough."""
        by_stem = process.extractOne(
            stem, self.vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
        )
        if by_stem is not None:
            return str(by_stem[0])
        by_word = process.extractOne(
            word, self._spellings, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
        )
        return self._spelled[by_word[0]] if by_word is not None else None

    def weight(self, phrase: _Phrase) -> int:
        # A longer phrase says more: words for English and Russian, characters over two (about
        # a word) for Chinese.
        if self.segmenter is None:
            return len(phrase.parts)
        return max(1, len("".join(phrase.parts)) // 2)

    def only(self, phrases: list[_Phrase], words: set[str], joined: str) -> bool:
        """Whether the message says nothing but these phrases (and small words)."""
        said = {part for phrase in phrases for part in phrase.parts}
        if self.segmenter is None:
            return not (words - self.stopwords - said)
        rest = joined
        for part in sorted(said | self.stopwords, key=len, reverse=True):
            rest = rest.replace(part, "")
        return not _NOT_WORDS.sub("", rest)

    def matches(self, phrase: _Phrase, words: set[str], joined: str) -> bool:
        if self.segmenter is None:
            return all(part in words for part in phrase.parts)
        # A single Chinese character is a word only where jieba cut it as one ("少" in "少了",
        # not in "多少"); longer parts are found anywhere in the text.
        return all(part in words if len(part) == 1 else part in joined for part in phrase.parts)


class LexiconUnderstander:
    """The default `Understander`: lexicon files, no model, no network."""

    def __init__(self, lexicons: dict[str, Lexicon]) -> None:
        self._languages = {code: _Language(lexicon) for code, lexicon in lexicons.items()}

    @classmethod
    def from_folders(cls, folders: Iterable[Path]) -> LexiconUnderstander:
        return cls(load_lexicons(folders, LANGUAGES))

    def understand(self, text: str, language: str) -> Understanding:
        numbers = order_numbers(text)
        order = numbers[0] if numbers else None
        compiled = self._languages.get(language) or self._languages.get("en")
        if compiled is None:
            return Understanding(Intent.UNKNOWN, order=order)
        words, joined, forgiven = compiled.words(text)
        intents: dict[Intent, int] = {}
        reasons: dict[Reason, int] = {}
        greeted: list[_Phrase] = []
        for phrase in compiled.phrases:
            if compiled.matches(phrase, words, joined):
                weight = compiled.weight(phrase)
                if isinstance(phrase.label, Reason):
                    reasons[phrase.label] = reasons.get(phrase.label, 0) + weight
                else:
                    intents[phrase.label] = intents.get(phrase.label, 0) + weight
                if phrase.label is Intent.GREETING:
                    greeted.append(phrase)
        if greeted and not compiled.only(greeted, words, joined):
            # "Hello Anna, which colour is it?" says more than hello: not a request for the menu.
            del intents[Intent.GREETING]
        return _decide(intents, reasons, order, forgiven)


L = TypeVar("L", Intent, Reason)


def _best(scores: dict[L, int], order: Iterable[L]) -> L | None:
    ranked = list(order)
    if not scores:
        return None
    return max(scores, key=lambda label: (scores[label], -ranked.index(label)))


def _decide(
    intents: dict[Intent, int], reasons: dict[Reason, int], order: str | None, forgiven: bool
) -> Understanding:
    reason = _best(reasons, Reason)
    for weak in WEAK:
        if reason is not None or set(intents) - {weak} - set(WEAK):
            intents.pop(weak, None)
    intent = _best(intents, PRIORITY)
    if intent is None:
        intent = REASON_INTENT.get(reason, Intent.PROBLEM) if reason is not None else None
    if intent is None:
        intent = Intent.UNKNOWN
    if intent not in (Intent.PROBLEM, Intent.RETURN, Intent.CANCEL):
        reason = None
    elif reason is not None:
        reason = IN_FLOW.get(intent, {}).get(reason, reason)
        if intent is Intent.CANCEL and reason not in CANCEL_REASONS:
            reason = None
    if intent is Intent.UNKNOWN:
        return Understanding(intent, order=order)
    score = max([intents.get(intent, 0), reasons.get(reason, 0) if reason else 0])
    confidence = min(1.0, 0.6 + 0.1 * score) * (0.9 if forgiven else 1.0)
    return Understanding(intent, reason, order, round(confidence, 2))
