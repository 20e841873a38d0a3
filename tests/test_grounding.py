"""Evidence: every item of every extractor points at the transcript line(s) it came from, and
summary.json keeps its shape with or without it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from meeting_storage import MeetingStorage
from meeting_storage.analysis import (
    Extraction,
    RuleBasedExtractor,
    Transcript,
    llm,
    parse_transcript,
)
from meeting_storage.analysis.bedrock import BedrockExtractor
from meeting_storage.analysis.grounding import MIN_MATCH, TranscriptLines, ground
from meeting_storage.analysis.llm import LlmExtractor
from meeting_storage.analysis.llm_openai import OpenAiTransport
from meeting_storage.core.analysis import (
    ActionItem,
    Decision,
    Evidence,
    Requirement,
    Summary,
    requirements_from_json,
    requirements_to_json,
)
from meeting_storage.core.retry import Backoff
from meeting_storage.render.report import analysis_lines, clock, lines_around, meeting_markdown
from tests.chat_server import Reply, chat_server, completion
from tests.conftest import SAMPLE_TRANSCRIPT
from tests.test_llm_openai import ANSWER, INVENTED, TIMED_TRANSCRIPT

FIXTURES = Path(__file__).parent / "fixtures"
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


@pytest.fixture(autouse=True)
def _no_waiting_between_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm, "LLM_BACKOFF", Backoff(base_delay=0.0))


def items(result: Extraction) -> list[ActionItem | Decision | Requirement]:
    return [*result.action_items, *result.decisions, *result.requirements]


def assert_evidence_matches_the_transcript(result: Extraction, transcript: Transcript) -> None:
    """Each item's evidence is where it says: an utterance (or two in a row) starting at
    `start`, said by `speaker`, holding the quote, and ending at `end`."""
    utterances = transcript.utterances
    assert items(result), "the extractor found nothing to check"
    for item in items(result):
        evidence = item.evidence
        assert evidence is not None, item
        assert evidence.quote.strip()
        first = [n for n, u in enumerate(utterances) if u.start == evidence.start]
        assert first, f"{evidence.start} is not the start of a transcript line"
        n = first[0]
        said = " ".join(u.text for u in utterances[n : n + 2])
        assert evidence.quote in said, (evidence.quote, said)
        assert evidence.speaker == utterances[n].speaker
        assert evidence.end is not None and evidence.start is not None
        assert evidence.end >= evidence.start
        following = [u.start for u in utterances[n + 1 : n + 3] if u.start is not None]
        # Its own end, or where the next line starts; the last line of all ends where it starts.
        assert evidence.end in {utterances[n].end, *following} or (
            n + 2 >= len(utterances) and evidence.end >= evidence.start
        )


def test_rule_based_items_point_at_their_lines_in_a_timed_transcript() -> None:
    transcript = parse_transcript(TIMED_TRANSCRIPT)
    result = RuleBasedExtractor().extract(transcript)
    assert_evidence_matches_the_transcript(result, transcript)
    carol = next(i for i in result.action_items if i.owner == "Carol")
    assert carol.evidence == Evidence(
        quote="I will send the revised budget to finance by Friday.",
        start=47,
        end=62,
        speaker="Carol",
    )


@pytest.mark.parametrize("name", ["standup.vtt", "standup.srt"])
def test_rule_based_items_point_at_cues_with_their_own_end_times(name: str) -> None:
    transcript = parse_transcript((FIXTURES / name).read_text(), name)
    result = RuleBasedExtractor().extract(transcript)
    assert_evidence_matches_the_transcript(result, transcript)


def test_rule_based_items_of_aws_transcribe_output_point_at_speaker_turns() -> None:
    name = "aws-transcribe-output.json"
    transcript = parse_transcript((FIXTURES / name).read_text(), name)
    result = RuleBasedExtractor().extract(transcript)
    assert_evidence_matches_the_transcript(result, transcript)
    assert result.action_items[0].evidence is not None
    assert result.action_items[0].evidence.speaker == "Speaker 2"


def test_plain_text_gives_the_quote_and_speaker_without_times() -> None:
    result = RuleBasedExtractor().extract(parse_transcript(SAMPLE_TRANSCRIPT))
    assert items(result)
    for item in items(result):
        assert item.evidence is not None
        assert (item.evidence.start, item.evidence.end) == (None, None)
        assert item.evidence.speaker in {"Alice", "Bob", "Carol"}
        assert item.evidence.quote in SAMPLE_TRANSCRIPT


@pytest.fixture
def bedrock() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_bedrock_items_point_at_their_lines_and_invented_ones_are_dropped(
    bedrock: tuple[Any, Stubber],
) -> None:
    client, stubber = bedrock
    invented = {**ANSWER, "action_items": [*ANSWER["action_items"], INVENTED]}
    response = {
        "output": {"message": {"role": "assistant", "content": [{"text": json.dumps(invented)}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        "metrics": {"latencyMs": 1},
    }
    stubber.add_response(
        "converse",
        response,
        {"modelId": MODEL, "system": ANY, "messages": ANY, "inferenceConfig": ANY},
    )
    transcript = parse_transcript(TIMED_TRANSCRIPT)

    result = BedrockExtractor(client, MODEL).extract(transcript)

    assert result.method == "bedrock" and result.dropped_items == 1
    assert result.summary.to_json()["extraction"]["dropped_items"] == 1
    assert_evidence_matches_the_transcript(result, transcript)


def test_openai_compatible_items_point_at_their_lines() -> None:
    transcript = parse_transcript(TIMED_TRANSCRIPT)
    with chat_server() as server:
        server.reply(Reply(200, completion(json.dumps(ANSWER))))
        result = LlmExtractor(OpenAiTransport("m", base_url=server.base_url)).extract(transcript)
    assert result.method == "openai"
    assert_evidence_matches_the_transcript(result, transcript)


def test_a_paraphrase_without_a_quote_is_found_by_its_words_and_an_invention_is_not() -> None:
    transcript = parse_transcript(TIMED_TRANSCRIPT)
    grounded = ground(
        transcript,
        [
            ActionItem("Carol sends the revised budget to finance", "Carol"),
            ActionItem("Frank will repaint the office", "Frank"),
        ],
        [Decision("Rechargeable batteries, not disposable ones")],
        [Requirement("Voice search", "COULD", evidence=Evidence(quote="a voice search feature"))],
        drop_unfound=True,
    )
    assert [item.owner for item in grounded.action_items] == ["Carol"]
    assert grounded.dropped == 1
    assert [d.evidence.start for d in grounded.decisions if d.evidence] == [31]
    assert [r.evidence.start for r in grounded.requirements if r.evidence] == [101]


def test_an_item_the_rule_based_extractor_rewrote_beyond_recognition_is_kept() -> None:
    transcript = parse_transcript(TIMED_TRANSCRIPT)
    grounded = ground(transcript, [ActionItem("Zebra xylophone")], [], [], drop_unfound=False)
    assert grounded.action_items == (ActionItem("Zebra xylophone"),) and grounded.dropped == 0


def test_a_quote_spanning_two_lines_starts_at_the_first() -> None:
    transcript = parse_transcript(TIMED_TRANSCRIPT)
    evidence = TranscriptLines(transcript).find(
        "older users. Dave will prepare the prototype demo by next week"
    )
    assert evidence is not None
    assert (evidence.start, evidence.end, evidence.speaker) == (62, 101, "Bob")
    assert MIN_MATCH <= 1


# ------------------------------------------------------------------ the stored shapes


OLD_SUMMARY = {
    "summary": "We planned the launch.",
    "action_items": [{"text": "Send the budget", "owner": "Carol", "due": "Friday", "done": True}],
    "decisions": [{"text": "Use batteries", "speaker": "Alice"}, "A plain-string decision"],
    "participants": ["Alice", "Carol"],
}


def test_a_summary_written_before_evidence_loads_and_is_written_back_unchanged() -> None:
    summary = Summary.from_json(OLD_SUMMARY)
    assert all(item.evidence is None for item in summary.action_items)
    assert all(decision.evidence is None for decision in summary.decisions)
    written = summary.to_json()
    assert written == {
        **OLD_SUMMARY,
        "decisions": [OLD_SUMMARY["decisions"][0], {"text": "A plain-string decision"}],
    }
    assert "evidence" not in json.dumps(written)
    old_requirements = [{"text": "Pagination", "priority": "MUST"}, "A string"]
    assert requirements_to_json(requirements_from_json(old_requirements)) == [
        {"text": "Pagination", "priority": "MUST"},
        {"text": "A string", "priority": ""},
    ]


def test_evidence_round_trips_and_a_broken_one_is_kept_as_it_was() -> None:
    evidence = {"start": 47.5, "end": 62.0, "speaker": "Carol", "quote": "I will send it."}
    stored = {
        "summary": "",
        "action_items": [{"text": "Send it", "owner": None, "due": None, "evidence": evidence}],
        "decisions": [{"text": "Go", "evidence": {**evidence, "start": None, "end": None}}],
    }
    summary = Summary.from_json(stored)
    assert summary.action_items[0].evidence == Evidence("I will send it.", 47.5, 62.0, "Carol")
    assert summary.decisions[0].evidence == Evidence("I will send it.", None, None, "Carol")
    assert summary.to_json() == stored
    broken = {"text": "Send it", "owner": None, "due": None, "evidence": "at the end"}
    item = ActionItem.from_json(broken)
    assert item is not None and item.evidence is None and item.to_json() == broken
    requirement = Requirement.from_json({"text": "r", "priority": "MUST", "evidence": evidence})
    assert requirement is not None and requirement.to_json()["evidence"] == evidence


# ------------------------------------------------------------------ the faces


def test_the_report_and_the_command_line_carry_the_times(moto_storage: MeetingStorage) -> None:
    result = moto_storage.process(TIMED_TRANSCRIPT)
    meeting = moto_storage.get_meeting(result.record.meeting_id)

    lines = analysis_lines(meeting.summary, meeting.requirements)
    carol = next(line for line in lines if "(Carol)" in line)
    assert carol.startswith("  - [00:47] action (Carol) due Friday: ")
    report = meeting_markdown(meeting)
    assert "| Said at | Action | Owner | Due |" in report
    assert "| \\[00\\:47\\] | " in report
    assert "| Said at | Requirement | Priority |" in report

    carol_item = next(i for i in meeting.summary.action_items if i.owner == "Carol")
    assert carol_item.evidence is not None
    assert lines_around(meeting.transcription, carol_item.evidence) == [
        "[00:31] Alice: We decided to use rechargeable batteries instead of disposable ones.",
        "[00:47] Carol: I will send the revised budget to finance by Friday.",
        "[01:02] Bob: The interface should stay simple enough for older users.",
        "[01:20] Alice: Dave will prepare the prototype demo by next week.",
    ]


def test_without_times_the_lines_are_found_by_the_quote_and_nothing_is_timed() -> None:
    result = RuleBasedExtractor().extract(parse_transcript(SAMPLE_TRANSCRIPT))
    lines = analysis_lines(result.summary, result.requirements)
    assert not any(line.startswith("  - [") for line in lines)
    carol = next(i for i in result.action_items if i.owner == "Carol")
    assert carol.evidence is not None
    assert lines_around(SAMPLE_TRANSCRIPT, carol.evidence, before=0, after=0) == [
        "Carol: I will send the revised budget to finance by Friday."
    ]
    assert clock(3725) == "1:02:05" and clock(754) == "12:34"
    assert lines_around("", carol.evidence) == []
