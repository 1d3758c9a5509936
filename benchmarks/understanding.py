"""How long the offline understander takes a message, on one core, without the bot.

    python -m benchmarks.understanding [--rounds 5]

Builds the understander once from the shipped lexicons (timed apart: it loads jieba's
dictionary), then understands every phrase of tests/understanding/*.jsonl (the held-out and the
tuning phrases, in ru, en and zh) in each of several rounds, and reports per language the
median and the slowest message (each message's median over the rounds), and the accuracy on
the held-out phrases.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from bot.rendering.renderer import templates_root
from bot.understanding import LexiconUnderstander

PHRASES = Path(__file__).resolve().parent.parent / "tests" / "understanding"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    understander = LexiconUnderstander.from_folders([templates_root()])
    built = time.perf_counter() - started
    print(f"built in {built * 1000:.0f} ms (lexicons and jieba's dictionary, once at start)")

    phrases = [
        json.loads(line)
        for name in ("heldout", "tuning")
        for line in (PHRASES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    # Each message's time is its median over the rounds: the machine is shared, and one round
    # that another process interrupts says nothing about the understander.
    rounds: list[list[float]] = [[] for _ in phrases]
    for _ in range(args.rounds):
        for index, phrase in enumerate(phrases):
            start = time.perf_counter()
            understander.understand(phrase["text"], phrase["language"])
            rounds[index].append(time.perf_counter() - start)
    per_message: dict[str, list[float]] = defaultdict(list)
    for phrase, times in zip(phrases, rounds, strict=True):
        per_message[phrase["language"]].append(statistics.median(times))
    for language, times in sorted(per_message.items()):
        print(
            f"{language}: median {statistics.median(times) * 1e6:.0f} µs, "
            f"slowest {max(times) * 1e6:.0f} µs a message ({len(times)} messages)"
        )

    right: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for line in (PHRASES / "heldout.jsonl").read_text(encoding="utf-8").splitlines():
        phrase = json.loads(line)
        got = understander.understand(phrase["text"], phrase["language"])
        tally = right[phrase["language"]]
        tally[0] += 1
        tally[1] += got.intent == phrase["intent"]
        tally[2] += (got.reason.value if got.reason else None) == phrase["reason"]
    for language, (n, intents, reasons) in sorted(right.items()):
        print(f"held out {language}: intent {intents}/{n}, reason {reasons}/{n}")


if __name__ == "__main__":
    main()
