"""Speed of the language-model path, next to the rule-based extractor, on the same meetings.

A local chat-completions server (the tests' tests/chat_server.py) answers every call at once
with items quoted from the prompt's transcript, so the figures are this package's own cost
of the model path: cutting the transcript, the HTTP round trips, validating the answers,
the reduce call and grounding every item in the transcript. A real model adds its own
answer time (seconds per call) on top; the number of calls is in the table.

Meetings: a 1,500-word and a 10,000-word timed transcript (about 10 and 65 minutes of talk)
built from tests/fixtures/messy-planning.txt. Run with `make bench` or
`python -m bench.llm_speed`.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from meeting_storage.analysis import RuleBasedExtractor, parse_transcript
from meeting_storage.analysis.grounding import ground
from meeting_storage.analysis.grounding import words as content_words
from meeting_storage.analysis.llm import LlmExtractor, chunk_transcript
from meeting_storage.analysis.llm_openai import OpenAiTransport
from meeting_storage.analysis.transcript import Transcript, format_timestamp
from meeting_storage.core.analysis import ActionItem, Evidence
from tests.chat_server import Reply, chat_server, completion

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "messy-planning.txt"
SIZES = (1_500, 10_000)
RUNS = 3
_LINE = re.compile(r"^\[[0-9:]+\] (?P<speaker>[^:]+): (?P<text>.+)$")
_COMMITMENT = re.compile(r"\b(?:I'll|I will|can you|let's|we'll|going to|gonna)\b", re.IGNORECASE)


def timed_transcript(words: int) -> Transcript:
    """The fixture's lines repeated to `words` words, one line every 6 seconds."""
    lines = [line for line in FIXTURE.read_text().splitlines() if ":" in line]
    out: list[str] = []
    count = 0
    while count < words:
        for line in lines:
            speaker, text = line.split(":", 1)
            out.append(f"[{format_timestamp(len(out) * 6)}] {speaker.strip()}: {text.strip()}")
            count += len(text.split())
            if count >= words:
                break
    return parse_transcript("\n".join(out))


def model_answer(body: dict[str, Any]) -> Reply:
    """What a quick model would say: the commitments of the prompt's lines, quoted."""
    prompt = body["messages"][-1]["content"]
    if prompt.startswith("These are the outcomes"):  # the reduce call: keep the first part
        parts = json.loads(prompt.split("<parts>\n", 1)[1].rsplit("\n</parts>", 1)[0])
        return Reply(200, completion(json.dumps(parts[0])))
    items = []
    for line in prompt.splitlines():
        match = _LINE.match(line)
        if match and _COMMITMENT.search(match["text"]) and len(items) < 12:
            items.append(
                {"text": match["text"][:120], "owner": match["speaker"], "due": None,
                 "quote": match["text"]}
            )  # fmt: skip
    answer = {"summary": "A planning meeting.", "action_items": items, "decisions": [],
              "requirements": []}  # fmt: skip
    return Reply(200, completion(json.dumps(answer), tokens=(len(prompt) // 4, 300)))


def seconds(run: Any) -> tuple[float, float, Any]:
    """(median, slowest, last result) of RUNS runs."""
    times = []
    result = None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times), result


def main() -> int:
    rows = []
    with chat_server() as server:
        server.default = model_answer
        for words in SIZES:
            transcript = timed_transcript(words)
            median, slowest, rule_result = seconds(
                lambda t=transcript: RuleBasedExtractor().extract(t)
            )
            rows.append(
                ("rule-based (baseline)", words, 0, median, slowest, len(rule_result.action_items))
            )
            extractor = LlmExtractor(OpenAiTransport("bench-model", base_url=server.base_url))
            calls = len(chunk_transcript(transcript, extractor.chunk_chars))
            calls += 1 if calls > 1 else 0
            before = len(server.received)
            median, slowest, llm_result = seconds(lambda t=transcript, e=extractor: e.extract(t))
            assert llm_result.method == "openai", llm_result.notes
            assert len(server.received) - before == calls * RUNS
            rows.append(
                (
                    "LLM path, OpenAI-compatible",
                    words,
                    calls,
                    median,
                    slowest,
                    len(llm_result.action_items),
                )
            )
            # Grounding alone: 30 items looked up in the transcript.
            said = [u.text for u in transcript.utterances if len(content_words(u.text)) >= 4]
            quotes = said[:: max(1, len(said) // 30)][:30]
            items = [ActionItem(q[:60], evidence=Evidence(quote=q)) for q in quotes]
            median, slowest, grounded = seconds(
                lambda t=transcript, i=items: ground(t, i, [], [], drop_unfound=True)
            )
            assert grounded.dropped == 0
            rows.append(
                ("grounding 30 items", words, 0, median, slowest, len(grounded.action_items))
            )
    print("| path | words | model calls | median s | slowest s | action items |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, words, calls, median, slowest, found in rows:
        print(f"| {name} | {words:,} | {calls} | {median:.3f} | {slowest:.3f} | {found} |")
    print(
        "\nThe local server answers at once: the LLM rows are this package's overhead; a real "
        "model adds its answer time per call."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
