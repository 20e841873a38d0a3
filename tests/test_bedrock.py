"""Amazon Bedrock extraction through botocore's Stubber: contract, map-reduce and fallbacks."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from meeting_storage import MeetingStorage, Settings
from meeting_storage.analysis import ModelUsage, RuleBasedExtractor, llm, parse_transcript
from meeting_storage.analysis.backends import make_extractor
from meeting_storage.analysis.bedrock import (
    BedrockExtractor,
    ContractError,
    chunk_transcript,
    parse_json_answer,
    validate_outcome,
)
from meeting_storage.core import layout
from meeting_storage.core.retry import Backoff
from meeting_storage.costs.pricing import prices_for
from meeting_storage.ops.cost_review import cost_report
from tests.conftest import REGION, SAMPLE_TRANSCRIPT, wav_bytes

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
FIXTURES = Path(__file__).parent / "fixtures"
ANSWER = {
    "summary": "The team planned the remote control launch.",
    "action_items": [
        {
            "text": "Carol will send the revised budget to finance",
            "owner": "Carol",
            "due": "Friday",
        },
        {"text": "Dave will prepare the prototype demo", "owner": "Dave", "due": None},
    ],
    "decisions": ["Use rechargeable batteries"],
    "requirements": [
        {"text": "Works with every television sold in Europe", "priority": "high"},
        {"text": "Voice search", "priority": "COULD"},
    ],
}


def converse_response(
    text: str, stop: str = "end_turn", *, tokens: tuple[int, int] = (100, 50)
) -> dict[str, Any]:
    input_tokens, output_tokens = tokens
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop,
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens,
        },
        "metrics": {"latencyMs": 420},
    }


def expected_request() -> dict[str, Any]:
    return {
        "modelId": MODEL,
        "system": ANY,
        "messages": ANY,
        "inferenceConfig": {"maxTokens": 2000, "temperature": 0.0},
    }


@pytest.fixture(autouse=True)
def _no_waiting_between_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm, "LLM_BACKOFF", Backoff(base_delay=0.0))


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


def test_a_valid_answer_is_used_and_recorded_truthfully(bedrock: tuple[Any, Stubber]) -> None:
    client, stubber = bedrock
    fenced = "```json\n" + json.dumps(ANSWER) + "\n```"
    stubber.add_response("converse", converse_response(fenced), expected_request())
    result = BedrockExtractor(client, MODEL).extract(parse_transcript(SAMPLE_TRANSCRIPT))
    assert result.method == "bedrock" and result.bedrock_used and result.notes == ()
    assert result.action_items[0].to_json() == {
        "text": "Carol will send the revised budget to finance",
        "owner": "Carol",
        "due": "Friday",
        # Found in the transcript (which has no times): the line, as said, and who said it.
        "evidence": {
            "start": None,
            "end": None,
            "speaker": "Carol",
            "quote": "I will send the revised budget to finance by Friday.",
        },
    }
    assert [d.to_json()["text"] for d in result.decisions] == ["Use rechargeable batteries"]
    assert result.decisions[0].evidence is not None
    assert result.decisions[0].evidence.speaker == "Alice"
    assert [r.to_json()["priority"] for r in result.requirements] == ["MUST", "COULD"]
    assert result.summary.to_json()["participants"] == ["Alice", "Bob", "Carol"]
    assert result.model_usage == ModelUsage(MODEL, input_tokens=100, output_tokens=50)


def test_a_long_transcript_is_chunked_and_merged_not_truncated(
    bedrock: tuple[Any, Stubber],
) -> None:
    client, stubber = bedrock
    transcript = parse_transcript((FIXTURES / "messy-planning.txt").read_text())
    chunks = chunk_transcript(transcript, 600)
    assert len(chunks) >= 3
    assert "".join(chunks).replace("\n", "") == transcript.text.replace("\n", "")
    prompts: list[str] = []
    client.meta.events.register(
        "provide-client-params.bedrock-runtime.Converse",
        lambda params, **_: prompts.append(params["messages"][0]["content"][0]["text"]),
    )
    for n in range(len(chunks)):
        partial = {**ANSWER, "summary": f"part {n + 1}", "decisions": [f"decision {n + 1}"]}
        answer = converse_response(json.dumps(partial), tokens=(1000 + n, 200 + n))
        stubber.add_response("converse", answer, expected_request())
    merged = {**ANSWER, "summary": "The whole meeting.", "decisions": ["decision 1", "decision 3"]}
    reduced = converse_response(json.dumps(merged), tokens=(3000, 400))
    stubber.add_response("converse", reduced, expected_request())

    result = BedrockExtractor(client, MODEL, chunk_chars=600).extract(transcript)

    assert result.bedrock_used and result.summary.text == "The whole meeting."
    # Every call is billed: the map calls' tokens plus the reduce call's.
    maps = range(len(chunks))
    assert result.model_usage == ModelUsage(
        MODEL,
        input_tokens=sum(1000 + n for n in maps) + 3000,
        output_tokens=sum(200 + n for n in maps) + 400,
    )
    assert len(prompts) == len(chunks) + 1
    assert prompts[0].startswith(f"Transcript part 1 of {len(chunks)}")
    assert "Sofia, can you" in " ".join(prompts[:-1])  # the end of the meeting was sent too
    assert '"summary": "part 2"' in prompts[-1] and "Merge them" in prompts[-1]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("ThrottlingException", "throttling requests (ThrottlingException)"),
        ("AccessDeniedException", "bedrock:InvokeModel on the model's ARN"),
        ("ResourceNotFoundException", "check BEDROCK_MODEL_ID and BEDROCK_REGION"),
        ("ValidationException", "the model refused the request"),
    ],
)
def test_service_errors_fall_back_to_the_rule_based_extractor(
    bedrock: tuple[Any, Stubber], code: str, reason: str
) -> None:
    client, stubber = bedrock
    # Throttling may pass, so it is retried (llm.DEFAULT_ATTEMPTS calls); the others are not.
    calls = llm.DEFAULT_ATTEMPTS if code == "ThrottlingException" else 1
    for _ in range(calls):
        stubber.add_client_error("converse", service_error_code=code, service_message="no")
    result = BedrockExtractor(client, MODEL).extract(parse_transcript(SAMPLE_TRANSCRIPT))
    assert result.method == "rule_based" and not result.bedrock_used
    assert (
        result.summary == RuleBasedExtractor().extract(parse_transcript(SAMPLE_TRANSCRIPT)).summary
    )
    (note,) = result.notes
    assert note.startswith(f"Amazon Bedrock ({MODEL}) was not used") and reason in note
    assert result.model_usage is None  # no call was answered, so none was billed


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("Sure! Here are the action items: ...", "not valid JSON"),
        ('{"summary": "x", "action_items": [', "not valid JSON"),
        (json.dumps({**ANSWER, "requirements": [{"text": "x", "priority": "URGENT"}]}), "priority"),
        (json.dumps({**ANSWER, "action_items": [{"owner": "Carol"}]}), "action_items[0].text"),
        (json.dumps({**ANSWER, "summary": None}), '"summary" must be a string'),
    ],
)
def test_answers_breaking_the_contract_fall_back(
    bedrock: tuple[Any, Stubber], answer: str, reason: str
) -> None:
    client, stubber = bedrock
    # An answer that is not JSON at all is asked for again; a broken contract is not.
    calls = llm.DEFAULT_ATTEMPTS if reason == "not valid JSON" else 1
    for _ in range(calls):
        stubber.add_response("converse", converse_response(answer), expected_request())
    result = BedrockExtractor(client, MODEL).extract(parse_transcript(SAMPLE_TRANSCRIPT))
    assert not result.bedrock_used and result.method == "rule_based"
    assert "did not follow the JSON contract" in result.notes[0] and reason in result.notes[0]
    # The rejected answers were still billed.
    assert result.model_usage == ModelUsage(
        MODEL, input_tokens=100 * calls, output_tokens=50 * calls
    )


def test_a_fallback_after_answered_calls_keeps_their_tokens(
    bedrock: tuple[Any, Stubber],
) -> None:
    client, stubber = bedrock
    transcript = parse_transcript((FIXTURES / "messy-planning.txt").read_text())
    assert len(chunk_transcript(transcript, 600)) >= 3
    first = converse_response(json.dumps(ANSWER), tokens=(1200, 300))
    second = converse_response(json.dumps(ANSWER), tokens=(1100, 250))
    stubber.add_response("converse", first, expected_request())
    stubber.add_response("converse", second, expected_request())
    for _ in range(llm.DEFAULT_ATTEMPTS):
        stubber.add_client_error("converse", service_error_code="ThrottlingException")

    result = BedrockExtractor(client, MODEL, chunk_chars=600).extract(transcript)

    assert result.method == "rule_based" and not result.bedrock_used
    assert "ThrottlingException" in result.notes[-1]
    assert result.model_usage == ModelUsage(MODEL, input_tokens=2300, output_tokens=550)


def test_an_answer_cut_off_at_the_token_limit_falls_back(bedrock: tuple[Any, Stubber]) -> None:
    client, stubber = bedrock
    cut_off = converse_response('{"summary": "', "max_tokens")
    stubber.add_response("converse", cut_off, expected_request())
    result = BedrockExtractor(client, MODEL).extract(parse_transcript(SAMPLE_TRANSCRIPT))
    assert not result.bedrock_used and "output token limit" in result.notes[0]
    assert result.model_usage == ModelUsage(MODEL, input_tokens=100, output_tokens=50)


def test_the_stored_meeting_says_which_extractor_ran_and_why(
    moto_storage: MeetingStorage, bedrock: tuple[Any, Stubber]
) -> None:
    client, stubber = bedrock
    moto_storage.extractor = BedrockExtractor(client, MODEL)
    stubber.add_response("converse", converse_response(json.dumps(ANSWER)), expected_request())
    for _ in range(llm.DEFAULT_ATTEMPTS):
        stubber.add_client_error("converse", service_error_code="ThrottlingException")

    used = moto_storage.process(SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()))
    fell_back = moto_storage.process(SAMPLE_TRANSCRIPT)

    def metadata(meeting_id: str) -> dict[str, Any]:
        return json.loads(moto_storage.documents.get(layout.metadata_key(meeting_id)).data)  # type: ignore[no-any-return]

    first = metadata(used.record.meeting_id)
    assert (first["extraction_method"], first["bedrock_used"], first["notes"]) == (
        "bedrock",
        True,
        [],
    )
    assert first["action_items_count"] == 2 and first["requirements_count"] == 2
    second = metadata(fell_back.record.meeting_id)
    assert (second["extraction_method"], second["bedrock_used"]) == ("rule_based", False)
    assert "ThrottlingException" in second["notes"][0]
    assert fell_back.to_dict()["notes"] == second["notes"]
    assert second["bedrock_model_id"] is None and second["bedrock_input_tokens"] is None


def test_a_bedrock_meeting_records_its_tokens_and_their_cost(
    moto_storage: MeetingStorage, bedrock: tuple[Any, Stubber]
) -> None:
    client, stubber = bedrock
    moto_storage.extractor = BedrockExtractor(client, MODEL)
    answer = converse_response(json.dumps(ANSWER), tokens=(3000, 500))
    stubber.add_response("converse", answer, expected_request())

    record = moto_storage.process(SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes())).record

    stored = json.loads(moto_storage.documents.get(layout.metadata_key(record.meeting_id)).data)
    assert (stored["bedrock_model_id"], stored["bedrock_input_tokens"]) == (MODEL, 3000)
    assert stored["bedrock_output_tokens"] == 500
    assert stored["transcribed_seconds"] is None  # the transcript was given
    haiku = prices_for(REGION).bedrock[MODEL]
    assert (haiku.input_per_1k_tokens, haiku.output_per_1k_tokens) == (
        Decimal("0.00025"),
        Decimal("0.00125"),
    )
    # 3,000 / 1,000 x $0.00025 in + 500 / 1,000 x $0.00125 out, plus the S3 requests
    # (9 PUTs x $0.000005 + 4 GETs x $0.0000004: the index's three objects and its totals).
    s3_requests = 9 * Decimal("0.000005") + 4 * Decimal("0.0000004")
    expected = 3 * Decimal("0.00025") + Decimal("0.5") * Decimal("0.00125") + s3_requests
    assert expected == Decimal("0.0014216")
    assert Decimal(stored["processing_cost_usd"]) == expected
    assert moto_storage.list_meetings().meetings[0].processing_cost_usd == expected


def test_attaching_a_transcript_adds_its_cost_to_the_meeting(
    moto_storage: MeetingStorage, bedrock: tuple[Any, Stubber]
) -> None:
    client, stubber = bedrock
    assert moto_storage.transcriber is None  # the recording waits for a transcript
    waiting = moto_storage.process(None, audio_file=io.BytesIO(wav_bytes())).record
    # 9 PUTs x $0.000005 + 4 GETs x $0.0000004: the upload, its documents, the index's three
    # objects and index/aggregates.json.
    assert waiting.processing_cost_usd == Decimal("0.0000466")
    assert waiting.bedrock_model_id is None

    moto_storage.extractor = BedrockExtractor(client, MODEL)
    for tokens in ((3000, 500), (1000, 100)):
        answer = converse_response(json.dumps(ANSWER), tokens=tokens)
        stubber.add_response("converse", answer, expected_request())
    attached = moto_storage.attach_transcript(waiting.meeting_id, SAMPLE_TRANSCRIPT).record
    replaced = moto_storage.attach_transcript(waiting.meeting_id, SAMPLE_TRANSCRIPT).record

    # Each attach rewrites the documents, the index and its totals (8 PUTs, 4 GETs: $0.0000416)
    # and calls Bedrock: 3 x $0.00025 + 0.5 x $0.00125 = $0.001375, then 1 x $0.00025
    # + 0.1 x $0.00125.
    rewrite = 8 * Decimal("0.000005") + 4 * Decimal("0.0000004")
    first_call = 3 * Decimal("0.00025") + Decimal("0.5") * Decimal("0.00125")
    second_call = 1 * Decimal("0.00025") + Decimal("0.1") * Decimal("0.00125")
    assert attached.processing_cost_usd == Decimal("0.0000466") + rewrite + first_call
    assert replaced.processing_cost_usd == attached.processing_cost_usd + rewrite + second_call
    assert (attached.bedrock_input_tokens, attached.bedrock_output_tokens) == (3000, 500)
    assert (replaced.bedrock_input_tokens, replaced.bedrock_output_tokens) == (4000, 600)
    stored = json.loads(moto_storage.documents.get(layout.metadata_key(waiting.meeting_id)).data)
    assert Decimal(stored["processing_cost_usd"]) == replaced.processing_cost_usd
    assert (stored["bedrock_model_id"], stored["bedrock_input_tokens"]) == (MODEL, 4000)


def test_bedrock_is_priced_in_its_own_region(
    moto_settings: Settings, bedrock: tuple[Any, Stubber]
) -> None:
    client, stubber = bedrock
    # Nova has a price in us-east-1 but none in the eu-west-1 table.
    nova = "amazon.nova-lite-v1:0"
    storage = MeetingStorage(replace(moto_settings, bedrock_region="eu-west-1"))
    storage.extractor = BedrockExtractor(client, nova)
    stubber.add_response(
        "converse",
        converse_response(json.dumps(ANSWER), tokens=(3000, 500)),
        {**expected_request(), "modelId": nova},
    )

    record = storage.process(SAMPLE_TRANSCRIPT).record

    assert (record.bedrock_input_tokens, record.bedrock_output_tokens) == (3000, 500)
    # 8 PUTs and 4 GETs: documents, the index's three objects and index/aggregates.json.
    assert record.processing_cost_usd == 8 * Decimal("0.000005") + 4 * Decimal("0.0000004")
    assert "has no price in the eu-west-1 price table" in record.notes[-1]


def test_the_extractor_follows_the_settings(tmp_path: Path) -> None:
    assert isinstance(make_extractor(Settings(bucket="b")), RuleBasedExtractor)
    chosen = make_extractor(
        Settings(bucket="b", bedrock_model_id=MODEL, bedrock_region="eu-west-1")
    )
    assert isinstance(chosen, BedrockExtractor) and chosen.model_id == MODEL
    assert chosen._client.meta.region_name == "eu-west-1"


def test_contract_helpers() -> None:
    assert parse_json_answer('Here you go: {"a": 1} Thanks') == {"a": 1}
    with pytest.raises(ContractError):
        validate_outcome([])
    outcome = validate_outcome({"summary": " ok ", "decisions": [{"text": "d"}]}).to_json()
    assert outcome == {"summary": "ok", "action_items": [], "decisions": ["d"], "requirements": []}


def test_the_cost_review_prices_bedrock_in_its_own_region(moto_settings: Settings) -> None:
    # The bucket is in us-east-1; Bedrock runs in eu-west-1, whose table has no Nova price.
    storage = MeetingStorage(replace(moto_settings, bedrock_region="eu-west-1"))
    assert storage.prices.region == "us-east-1"
    assert storage.prices.bedrock_model("amazon.nova-lite-v1:0") is None
    assert storage.prices.bedrock_model("eu.anthropic.claude-3-haiku-20240307-v1:0") is not None
    report = cost_report(storage, bedrock=True, bedrock_model_id="amazon.nova-lite-v1:0")
    assert "No Bedrock price for 'amazon.nova-lite-v1:0' in eu-west-1" in " ".join(
        report.projection[0].estimate.notes
    )


def test_a_meeting_stored_before_costs_were_recorded_gets_its_storing_cost(
    moto_storage: MeetingStorage,
) -> None:
    waiting = moto_storage.process(None, audio_file=io.BytesIO(wav_bytes())).record
    old = replace(waiting, processing_cost_usd=None)
    moto_storage.documents.put(
        layout.metadata_key(waiting.meeting_id),
        json.dumps(old.to_dict()).encode(),
        "application/json",
    )
    attached = moto_storage.attach_transcript(waiting.meeting_id, SAMPLE_TRANSCRIPT).record
    # Storing it (9 PUTs, 4 GETs: $0.0000466) and rewriting it with the rule-based extractor
    # (8 PUTs, 4 GETs: $0.0000416); not the rewrite alone.
    assert attached.processing_cost_usd == Decimal("0.0000466") + Decimal("0.0000416")
