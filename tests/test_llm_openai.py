"""The OpenAI-compatible extractor against a local server that speaks the chat-completions
protocol: the request it sends, grounding, retries, timeouts and the rule-based fallback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from meeting_storage import MeetingStorage
from meeting_storage.analysis import RuleBasedExtractor, llm, parse_transcript
from meeting_storage.analysis.backends import make_extractor
from meeting_storage.analysis.extract import ModelUsage
from meeting_storage.analysis.llm import LlmExtractor, system_prompt
from meeting_storage.analysis.llm_openai import OpenAiTransport
from meeting_storage.core import layout
from meeting_storage.core.errors import ConfigurationError
from meeting_storage.core.retry import Backoff
from meeting_storage.core.settings import Settings
from meeting_storage.ops.doctor import run_doctor
from tests.chat_server import ChatServer, Reply, chat_server, completion

MODEL = "llama3.1:8b"
TIMED_TRANSCRIPT = """\
[00:00:05] Alice: Welcome everyone, today we plan the remote control launch and the budget review.
[00:00:14] Bob: The remote control must work with every television sold in Europe.
[00:00:31] Alice: We decided to use rechargeable batteries instead of disposable ones.
[00:00:47] Carol: I will send the revised budget to finance by Friday.
[00:01:02] Bob: The interface should stay simple enough for older users.
[00:01:20] Alice: Dave will prepare the prototype demo by next week.
[00:01:41] Carol: It would be nice to have a voice search feature, but it is optional.
"""
ANSWER: dict[str, Any] = {
    "summary": "The team planned the remote control launch and reviewed the budget.",
    "action_items": [
        {
            "text": "Carol will send the revised budget to finance",
            "owner": "Carol",
            "due": "Friday",
            "quote": "I will send the revised budget to finance by Friday.",
        },
        {
            "text": "Dave will prepare the prototype demo",
            "owner": "Dave",
            "due": "next week",
            "quote": "Dave will prepare the prototype demo by next week.",
        },
    ],
    "decisions": [
        {"text": "Use rechargeable batteries", "quote": "We decided to use rechargeable batteries"}
    ],
    "requirements": [
        {
            "text": "Works with every television sold in Europe",
            "priority": "MUST",
            "quote": "must work with every television sold in Europe",
        }
    ],
}
# An item nobody said: the model made it up.
INVENTED = {
    "text": "Erin will rent a boat for the team offsite",
    "owner": "Erin",
    "due": None,
    "quote": "Erin, can you rent a boat for the offsite?",
}


@pytest.fixture(autouse=True)
def _no_waiting_between_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm, "LLM_BACKOFF", Backoff(base_delay=0.0))


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with chat_server() as running:
        yield running


def extractor(server: ChatServer, **options: Any) -> LlmExtractor:
    timeout = options.pop("timeout", 10.0)
    api_key = options.pop("api_key", None)
    model = options.pop("model", MODEL)
    transport = OpenAiTransport(model, base_url=server.base_url, api_key=api_key, timeout=timeout)
    return LlmExtractor(transport, **options)


def answer(data: dict[str, Any], **options: Any) -> Reply:
    return Reply(200, completion(json.dumps(data), **options))


def test_a_good_answer_is_used_grounded_and_the_request_is_the_protocols(
    server: ChatServer,
) -> None:
    server.reply(answer(ANSWER, tokens=(900, 150)))
    transcript = parse_transcript(TIMED_TRANSCRIPT)

    result = extractor(server, api_key="sk-test").extract(transcript)

    assert (result.method, result.bedrock_used, result.notes) == ("openai", False, ())
    assert result.model_usage == ModelUsage(MODEL, 900, 150, provider="openai")
    (request,) = server.received
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer sk-test"
    body = request.body
    assert body["model"] == MODEL
    assert body["response_format"] == {"type": "json_object"}
    assert body["temperature"] == 0 and body["max_tokens"] == llm.MAX_OUTPUT_TOKENS
    system, user = body["messages"]
    assert system == {"role": "system", "content": system_prompt()}
    assert user["role"] == "user" and "[00:00:47] Carol: I will send" in user["content"]
    # Every item points at the line it was said on, with its time and speaker.
    carol, dave = result.action_items
    assert carol.evidence is not None and dave.evidence is not None
    assert (carol.evidence.start, carol.evidence.end, carol.evidence.speaker) == (47, 62, "Carol")
    assert carol.evidence.quote == "I will send the revised budget to finance by Friday."
    assert (dave.evidence.start, dave.evidence.speaker) == (80, "Alice")
    (decision,) = result.decisions
    assert decision.evidence is not None and decision.evidence.start == 31
    (requirement,) = result.requirements
    assert requirement.evidence is not None and requirement.evidence.start == 14
    info = result.summary.to_json()["extraction"]
    assert info == {
        "method": "openai",
        "model": MODEL,
        "input_tokens": 900,
        "output_tokens": 150,
        "dropped_items": 0,
    }


def test_a_local_server_needs_no_key(server: ChatServer) -> None:
    server.reply(answer(ANSWER))
    extractor(server).extract(parse_transcript(TIMED_TRANSCRIPT))
    assert "Authorization" not in server.received[0].headers


def test_an_item_not_in_the_transcript_is_dropped_and_counted(server: ChatServer) -> None:
    invented = {**ANSWER, "action_items": [*ANSWER["action_items"], INVENTED]}
    server.reply(answer(invented))

    result = extractor(server).extract(parse_transcript(TIMED_TRANSCRIPT))

    assert result.method == "openai"
    assert [item.owner for item in result.action_items] == ["Carol", "Dave"]
    assert result.dropped_items == 1
    assert result.summary.to_json()["extraction"]["dropped_items"] == 1
    assert (
        "1 item(s)" in result.notes[0] and "could not be found in the transcript" in result.notes[0]
    )


def test_malformed_json_is_asked_again_then_falls_back(server: ChatServer) -> None:
    for _ in range(llm.DEFAULT_ATTEMPTS):
        server.reply(Reply(200, completion('{"summary": "The team", "action_items": [')))
    transcript = parse_transcript(TIMED_TRANSCRIPT)

    result = extractor(server).extract(transcript)

    assert len(server.received) == llm.DEFAULT_ATTEMPTS
    assert (result.method, result.bedrock_used) == ("rule_based", False)
    assert result.summary == RuleBasedExtractor().extract(transcript).summary
    (note,) = result.notes
    assert note.startswith(f"The model {MODEL} at {server.base_url} was not used")
    assert "not valid JSON" in note and "rule-based extractor was used instead" in note
    # Every rejected answer was billed.
    assert result.model_usage == ModelUsage(MODEL, 360, 120, provider="openai")


def test_malformed_json_once_then_a_good_answer_is_used(server: ChatServer) -> None:
    server.reply(Reply(200, completion("Sure! The action items are...")), answer(ANSWER))
    result = extractor(server).extract(parse_transcript(TIMED_TRANSCRIPT))
    assert result.method == "openai" and len(server.received) == 2


def test_a_429_is_retried_then_the_answer_is_used(server: ChatServer) -> None:
    server.reply(Reply(429, {"error": {"message": "Rate limit reached"}}), answer(ANSWER))
    result = extractor(server).extract(parse_transcript(TIMED_TRANSCRIPT))
    assert result.method == "openai" and len(result.action_items) == 2
    assert len(server.received) == 2
    assert result.model_usage == ModelUsage(MODEL, 120, 40, provider="openai")


def test_a_server_without_json_mode_is_asked_again_without_it(server: ChatServer) -> None:
    refused = Reply(400, {"error": {"message": "'response_format.type' must be 'json_schema'"}})
    server.reply(refused, answer(ANSWER), answer(ANSWER))
    chosen = extractor(server)
    first = chosen.extract(parse_transcript(TIMED_TRANSCRIPT))
    second = chosen.extract(parse_transcript(TIMED_TRANSCRIPT))
    assert first.method == second.method == "openai"
    bodies = [r.body for r in server.received]
    assert "response_format" in bodies[0]
    assert "response_format" not in bodies[1] and "response_format" not in bodies[2]


def test_a_429_waits_as_long_as_the_server_asks(server: ChatServer) -> None:
    limited = Reply(429, {"error": {"message": "Slow down"}}, headers={"Retry-After": "7"})
    server.reply(limited, answer(ANSWER))
    waits: list[float] = []
    result = extractor(server, sleep=waits.append).extract(parse_transcript(TIMED_TRANSCRIPT))
    assert result.method == "openai" and waits == [7.0]


def test_a_429_that_does_not_pass_falls_back_with_the_reason(server: ChatServer) -> None:
    for _ in range(llm.DEFAULT_ATTEMPTS):
        server.reply(Reply(429, {"error": {"message": "Rate limit reached"}}))
    result = extractor(server).extract(parse_transcript(TIMED_TRANSCRIPT))
    assert result.method == "rule_based" and result.model_usage is None
    assert "rate limiting requests (HTTP 429: Rate limit reached)" in result.notes[0]


def test_a_timeout_falls_back_without_retrying(server: ChatServer) -> None:
    server.reply(Reply(200, completion(json.dumps(ANSWER)), delay=2.0))
    result = extractor(server, timeout=0.3).extract(parse_transcript(TIMED_TRANSCRIPT))
    assert result.method == "rule_based"
    assert "did not answer within 0.3 seconds" in result.notes[0]
    assert len(server.received) == 1  # a model too slow once is too slow again


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (401, "check OPENAI_API_KEY"),
        (404, "check OPENAI_BASE_URL"),
        (400, "the server refused the request (HTTP 400: model does not support"),
    ],
)
def test_refusals_fall_back_at_once_saying_what_to_check(
    server: ChatServer, status: int, reason: str
) -> None:
    server.reply(Reply(status, {"error": {"message": "model does not support this"}}))
    result = extractor(server).extract(parse_transcript(TIMED_TRANSCRIPT))
    assert result.method == "rule_based" and reason in result.notes[0]
    assert len(server.received) == 1


def test_a_server_that_is_not_running_falls_back() -> None:
    with chat_server() as stopped:
        base_url = stopped.base_url
    transport = OpenAiTransport(MODEL, base_url=base_url, timeout=2)
    result = LlmExtractor(transport).extract(parse_transcript(TIMED_TRANSCRIPT))
    assert result.method == "rule_based" and "could not be reached" in result.notes[0]


def test_an_answer_cut_off_at_the_token_limit_falls_back(server: ChatServer) -> None:
    server.reply(Reply(200, completion('{"summary": "', finish="length")))
    result = extractor(server).extract(parse_transcript(TIMED_TRANSCRIPT))
    assert result.method == "rule_based" and "output token limit" in result.notes[0]
    assert len(server.received) == 1


def test_a_long_meeting_is_mapped_and_reduced_with_the_quotes(server: ChatServer) -> None:
    transcript = parse_transcript(TIMED_TRANSCRIPT)
    parts = llm.chunk_transcript(transcript, 300)
    assert len(parts) >= 2
    for _ in parts:
        server.reply(answer(ANSWER, tokens=(100, 10)))
    server.reply(answer({**ANSWER, "summary": "Merged."}, tokens=(200, 20)))

    result = extractor(server, chunk_chars=300).extract(transcript)

    assert result.summary.text == "Merged." and len(server.received) == len(parts) + 1
    reduce_prompt = server.received[-1].body["messages"][1]["content"]
    assert "Merge them" in reduce_prompt
    assert '"quote": "I will send the revised budget to finance by Friday."' in reduce_prompt
    assert result.model_usage == ModelUsage(
        MODEL, 100 * len(parts) + 200, 10 * len(parts) + 20, provider="openai"
    )


def test_extra_summary_sections_are_asked_for_and_kept(server: ChatServer) -> None:
    sections = {"Yesterday": "Carol finished the budget.", "Blockers": ["No room for the demo"]}
    server.reply(answer({**ANSWER, "sections": sections}))

    result = extractor(server, sections=("Yesterday", "Today", "Blockers")).extract(
        parse_transcript(TIMED_TRANSCRIPT)
    )

    prompt = server.received[0].body["messages"][0]["content"]
    assert '"sections": {"Yesterday": "...", "Today": "...", "Blockers": "..."}' in prompt
    assert result.summary.to_json()["sections"] == [
        {"title": "Yesterday", "items": ["Carol finished the budget."]},
        {"title": "Today", "items": []},
        {"title": "Blockers", "items": ["No room for the demo"]},
    ]


def test_the_extractor_follows_the_settings() -> None:
    chosen = make_extractor(
        Settings.from_mapping(
            {
                "S3_BUCKET_NAME": "meetings",
                "EXTRACTOR": "openai",
                "OPENAI_BASE_URL": "http://localhost:11434/v1/",
                "OPENAI_MODEL": MODEL,
            }
        )
    )
    assert isinstance(chosen, LlmExtractor) and chosen.method == "openai"
    assert isinstance(chosen.transport, OpenAiTransport)
    assert chosen.transport.base_url == "http://localhost:11434/v1"
    assert chosen.model_id == MODEL
    # EXTRACTOR=rule_based wins over a Bedrock model id.
    rules = Settings.from_mapping(
        {"S3_BUCKET_NAME": "meetings", "EXTRACTOR": "rule_based", "BEDROCK_MODEL_ID": "m"}
    )
    assert isinstance(make_extractor(rules), RuleBasedExtractor)
    with pytest.raises(ConfigurationError, match="EXTRACTOR=openai needs OPENAI_MODEL"):
        Settings.from_mapping({"S3_BUCKET_NAME": "meetings", "EXTRACTOR": "openai"})
    with pytest.raises(ConfigurationError, match="EXTRACTOR 'gpt' is not one of"):
        Settings.from_mapping({"S3_BUCKET_NAME": "meetings", "EXTRACTOR": "gpt"})
    with pytest.raises(ConfigurationError, match="OPENAI_BASE_URL"):
        Settings.from_mapping(
            {
                "S3_BUCKET_NAME": "meetings",
                "EXTRACTOR": "openai",
                "OPENAI_MODEL": "m",
                "OPENAI_BASE_URL": "x",
            }
        )
    assert "sk-secret" not in repr(
        Settings.from_mapping({"S3_BUCKET_NAME": "meetings", "OPENAI_API_KEY": "sk-secret"})
    )


def test_a_stored_meeting_records_the_model_tokens_and_priced_cost(
    moto_storage: MeetingStorage, server: ChatServer
) -> None:
    moto_storage.extractor = extractor(server, model="gpt-4o-mini")
    server.reply(answer(ANSWER, tokens=(10_000, 2_000)))

    record = moto_storage.process(TIMED_TRANSCRIPT).record

    stored = json.loads(moto_storage.documents.get(layout.metadata_key(record.meeting_id)).data)
    assert (stored["extraction_method"], stored["bedrock_used"]) == ("openai", False)
    assert stored["bedrock_model_id"] is None  # not a Bedrock model
    # 10,000 x $0.15 / 1M in + 2,000 x $0.60 / 1M out, plus the S3 requests
    # (8 PUTs x $0.000005 + 4 GETs x $0.0000004: three documents, metadata.json, the index's
    # locator, month and manifest, and the store's totals, each of the last four read first).
    tokens = Decimal("0.0015") + Decimal("0.0012")
    s3_requests = 8 * Decimal("0.000005") + 4 * Decimal("0.0000004")
    assert Decimal(stored["processing_cost_usd"]) == tokens + s3_requests
    summary = json.loads(
        moto_storage.documents.get(layout.meeting_file_key(record.meeting_id, "summary.json")).data
    )
    assert summary["extraction"]["model"] == "gpt-4o-mini"
    assert summary["extraction"]["input_tokens"] == 10_000
    assert summary["action_items"][0]["evidence"]["start"] == 47


def test_a_model_without_a_price_records_its_tokens_and_says_so(
    moto_storage: MeetingStorage, server: ChatServer
) -> None:
    moto_storage.extractor = extractor(server)
    server.reply(answer(ANSWER, tokens=(5_000, 700)))

    record = moto_storage.process(TIMED_TRANSCRIPT).record

    assert record.processing_cost_usd == 8 * Decimal("0.000005") + 4 * Decimal("0.0000004")
    assert f"5000 input and 700 output tokens of {MODEL}: no price is known" in record.notes[-1]


def test_doctor_names_the_model_and_its_server(moto_settings: Settings) -> None:
    settings = replace(
        moto_settings,
        extractor="openai",
        openai_model=MODEL,
        openai_base_url="http://localhost:11434/v1",
        bedrock_model_id="anthropic.claude-3-haiku-20240307-v1:0",
    )
    checks = {check.name: check for check in run_doctor(MeetingStorage(settings)).checks}
    message = checks["analysis"].message
    assert f"Extraction: openai ({MODEL} at http://localhost:11434/v1, rule-based" in message
    assert "claude" not in message  # EXTRACTOR=openai: Bedrock is not used


def test_sections_can_be_asked_for_one_meeting(server: ChatServer) -> None:
    server.reply(answer({**ANSWER, "sections": {"Went well": "The demo."}}), answer(ANSWER))
    chosen = extractor(server)
    retro = chosen.extract(parse_transcript(TIMED_TRANSCRIPT), sections=["Went well"])
    plain = chosen.extract(parse_transcript(TIMED_TRANSCRIPT))
    assert retro.summary.to_json()["sections"] == [{"title": "Went well", "items": ["The demo."]}]
    assert "sections" not in plain.summary.to_json()
    first, second = (r.body["messages"][0]["content"] for r in server.received)
    assert '"sections": {"Went well": "..."}' in first and '"sections"' not in second
