"""Amazon Transcribe through botocore's Stubber; the bucket (and the job's output) in moto.

The stubbed job "finishes" while we wait: the fake sleep writes a stored fixture of a real
Transcribe output document where the job was told to put it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from meeting_storage import AccessDeniedError, MeetingStorage, UnsupportedMediaTypeError
from meeting_storage.analysis.aws_transcribe import AwsTranscribeTranscriber, media_format_of
from meeting_storage.analysis.transcribe import StoredAudio
from meeting_storage.core import layout
from meeting_storage.core.errors import TranscriptionError
from meeting_storage.core.models import STATUS_AWAITING_TRANSCRIPT, STATUS_COMPLETE
from meeting_storage.costs.pricing import prices_for
from meeting_storage.ops.cost_review import cost_report
from tests.conftest import REGION, wav_bytes
from tests.s3json_layout import one_index_key

FIXTURE = Path(__file__).parent / "fixtures" / "aws-transcribe-output.json"


class FakeJob:
    """Clock and sleep for the poller; the first sleep writes the job's output."""

    def __init__(self, storage: MeetingStorage, client: Any, *, write_output: bool = True) -> None:
        self.storage = storage
        self.now = 0.0
        self.sleeps: list[float] = []
        self.request: dict[str, Any] = {}
        self.write_output = write_output
        client.meta.events.register(
            "provide-client-params.transcribe.StartTranscriptionJob", self._capture
        )

    def _capture(self, params: dict[str, Any], **_: Any) -> None:
        self.request = dict(params)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.write_output and len(self.sleeps) == 1:
            self.storage.audio.put(
                self.request["OutputKey"], FIXTURE.read_bytes(), "application/json"
            )


@pytest.fixture
def transcribe(moto_storage: MeetingStorage) -> Iterator[tuple[MeetingStorage, Stubber, FakeJob]]:
    client = boto3.client("transcribe", region_name=REGION)
    job = FakeJob(moto_storage, client)
    stubber = Stubber(client)
    moto_storage.transcriber = AwsTranscribeTranscriber(
        client, moto_storage.audio, timeout=60, sleep=job.sleep, clock=job.clock
    )
    with stubber:
        yield moto_storage, stubber, job


def job_status(status: str, reason: str | None = None) -> dict[str, Any]:
    job: dict[str, Any] = {"TranscriptionJobName": "job", "TranscriptionJobStatus": status}
    if reason:
        job["FailureReason"] = reason
    return {"TranscriptionJob": job}


def expect_start(stubber: Stubber, bucket: str) -> None:
    stubber.add_response(
        "start_transcription_job",
        job_status("IN_PROGRESS"),
        {
            "TranscriptionJobName": ANY,
            "LanguageCode": "en-US",
            "MediaFormat": "wav",
            "Media": {"MediaFileUri": ANY},
            "OutputBucketName": bucket,
            "OutputKey": ANY,
            "Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 10},
        },
    )


def keys_in(storage: MeetingStorage) -> set[str]:
    """Every key but the audit trail's, with the S3 JSON index's objects (manifest, months,
    locators) as one."""
    return {
        one_index_key(info.key)
        for info in storage.audio.iter_objects("")
        if not info.key.startswith(layout.AUDIT_PREFIX)
    }


def test_recording_is_transcribed_in_place_and_analysed(
    transcribe: tuple[MeetingStorage, Stubber, FakeJob],
) -> None:
    storage, stubber, job = transcribe
    expect_start(stubber, storage.settings.bucket)
    for status in ("IN_PROGRESS", "IN_PROGRESS", "COMPLETED"):
        stubber.add_response(
            "get_transcription_job", job_status(status), {"TranscriptionJobName": ANY}
        )

    result = storage.process(None, audio_file=io.BytesIO(wav_bytes()), audio_filename="sync.wav")

    stubber.assert_no_pending_responses()
    record = result.record
    assert record.status == STATUS_COMPLETE and record.transcribed_by == "aws_transcribe"
    # The job reads the uploaded object itself, is named after the meeting, writes to our bucket.
    assert job.request["Media"]["MediaFileUri"] == (
        f"s3://{storage.settings.bucket}/{record.audio_s3_key}"
    )
    assert job.request["TranscriptionJobName"] == record.meeting_id
    assert job.request["OutputKey"] == layout.transcribe_output_key(record.meeting_id)
    assert job.sleeps == [2.0, 3.0]  # backing off
    meeting = storage.get_meeting(record.meeting_id)
    assert meeting.transcription.splitlines()[1] == (
        "[00:00:04] Speaker 2: Great. I'll send the release notes to marketing by Friday."
    )
    assert meeting.summary.action_items[0].to_json() == {
        "text": "Speaker 2 will send the release notes to marketing by Friday.",
        "owner": "Speaker 2",
        "due": "Friday",
        # Said at 4.1 s, in Transcribe's own words and times.
        "evidence": {
            "start": 4.1,
            "end": 7.55,
            "speaker": "Speaker 2",
            "quote": "Great. I'll send the release notes to marketing by Friday.",
        },
    }
    # The recording's own length (a 0.5 s WAV header) wins over the transcript's last timestamp.
    assert record.duration_seconds == pytest.approx(0.5)
    # Transcribe's output was read and removed: the meeting has exactly the documented files.
    assert keys_in(storage) == {
        record.audio_s3_key,
        *layout.meeting_file_keys(record.meeting_id),
        layout.INDEX_KEY,
    }


# 9 PUTs (the recording, three documents, metadata.json, three index objects and
# index/aggregates.json) x $0.000005 and 4 GETs (the index objects and the totals) x $0.0000004.
S3_REQUESTS_USD = 9 * Decimal("0.000005") + 4 * Decimal("0.0000004")


def expect_a_completed_job(stubber: Stubber, bucket: str) -> None:
    expect_start(stubber, bucket)
    for status in ("IN_PROGRESS", "COMPLETED"):  # the wait in between writes the output
        stubber.add_response(
            "get_transcription_job", job_status(status), {"TranscriptionJobName": ANY}
        )


@pytest.mark.parametrize(
    ("audio_seconds", "transcribe_usd"),
    [
        # 40 s / 60 x $0.024 a minute.
        (40.0, Decimal(40) * Decimal("0.024") / 60),
        # Half a second is billed as the 15-second minimum: 15 s / 60 x $0.024.
        (0.5, Decimal(15) * Decimal("0.024") / 60),
    ],
)
def test_a_transcribed_meeting_records_the_seconds_and_their_cost(
    transcribe: tuple[MeetingStorage, Stubber, FakeJob],
    audio_seconds: float,
    transcribe_usd: Decimal,
) -> None:
    storage, stubber, _ = transcribe
    assert prices_for(REGION).transcribe_per_minute == Decimal("0.024")
    assert transcribe_usd in (Decimal("0.016"), Decimal("0.006"))  # exact, no rounding
    expect_a_completed_job(stubber, storage.settings.bucket)

    result = storage.process(
        None, audio_file=io.BytesIO(wav_bytes(audio_seconds)), audio_filename="sync.wav"
    )

    record = result.record
    stored = json.loads(storage.documents.get(layout.metadata_key(record.meeting_id)).data)
    # The WAV header's length, not the transcript's last timestamp (10.22 s).
    assert stored["transcribed_seconds"] == audio_seconds
    assert stored["bedrock_model_id"] is None  # the rule-based extractor ran
    assert Decimal(stored["processing_cost_usd"]) == transcribe_usd + S3_REQUESTS_USD

    # The month's estimate bills the recorded seconds (the S3 requests are priced once, with
    # the other requests).
    report = cost_report(storage, months=1)
    recorded = report.monthly.item("Amazon Transcribe (standard batch), recorded")
    assert recorded.usd == transcribe_usd
    assert not [item for item in report.monthly.items if "metadata.json" in item.name]


def test_show_prints_what_the_processing_cost_is_made_of(
    transcribe: tuple[MeetingStorage, Stubber, FakeJob], capsys: pytest.CaptureFixture[str]
) -> None:
    from meeting_storage.cli.main import main

    storage, stubber, _ = transcribe
    expect_a_completed_job(stubber, storage.settings.bucket)
    record = storage.process(
        None, audio_file=io.BytesIO(wav_bytes(0.5)), audio_filename="sync.wav"
    ).record

    assert main(["show", record.meeting_id], storage=storage) == 0

    # $0.006 for 15 s of Transcribe (the minimum) plus $0.0000466 of S3 requests: $0.0060466,
    # shown to six decimals.
    line = "Processing cost: $0.006047 (S3 requests, Amazon Transcribe 15 s)"
    assert line in capsys.readouterr().out.splitlines()


def test_a_failed_job_keeps_the_upload_and_says_why(
    transcribe: tuple[MeetingStorage, Stubber, FakeJob],
) -> None:
    storage, stubber, job = transcribe
    job.write_output = False
    expect_start(stubber, storage.settings.bucket)
    stubber.add_response(
        "get_transcription_job",
        job_status("FAILED", "The audio is too short."),
        {"TranscriptionJobName": ANY},
    )
    result = storage.process(None, audio_file=io.BytesIO(wav_bytes()), audio_filename="a.wav")
    assert result.record.status == STATUS_AWAITING_TRANSCRIPT
    (note,) = result.record.notes
    assert "failed: The audio is too short." in note and "attach-transcript" in note
    assert result.record.transcribed_seconds is None  # AWS does not bill failed jobs
    assert storage.audio.head(result.record.audio_s3_key or "") is not None
    assert storage.list_meetings().meetings[0].notes == (note,)


def test_unsupported_format_is_reported_as_such(
    transcribe: tuple[MeetingStorage, Stubber, FakeJob],
) -> None:
    storage, stubber, job = transcribe
    job.write_output = False
    stubber.add_response("start_transcription_job", job_status("IN_PROGRESS"), None)
    stubber.add_response(
        "get_transcription_job",
        job_status(
            "FAILED",
            "The media format that you specified doesn't match the detected media format.",
        ),
        None,
    )
    assert storage.transcriber is not None
    with pytest.raises(UnsupportedMediaTypeError, match="could not read the recording"):
        storage.transcriber.transcribe(StoredAudio("meeting-abc", "meetings/x_a.wav", "audio/wav"))
    with pytest.raises(UnsupportedMediaTypeError, match="cannot read"):
        media_format_of(StoredAudio("meeting-abc", "meetings/x_a.aiff", "audio/aiff"))


def test_missing_permission_names_the_actions(
    transcribe: tuple[MeetingStorage, Stubber, FakeJob],
) -> None:
    storage, stubber, _ = transcribe
    stubber.add_client_error(
        "start_transcription_job",
        service_error_code="AccessDeniedException",
        service_message="User is not authorized to perform: transcribe:StartTranscriptionJob",
        http_status_code=400,
    )
    assert storage.transcriber is not None
    with pytest.raises(AccessDeniedError, match="transcribe:StartTranscriptionJob"):
        storage.transcriber.transcribe(StoredAudio("meeting-abc", "meetings/x_a.wav", "audio/wav"))


def test_a_job_that_runs_too_long_times_out_with_advice(
    transcribe: tuple[MeetingStorage, Stubber, FakeJob],
) -> None:
    storage, stubber, job = transcribe
    job.write_output = False
    stubber.add_response("start_transcription_job", job_status("IN_PROGRESS"), None)
    for _ in range(7):
        stubber.add_response("get_transcription_job", job_status("IN_PROGRESS"), None)
    assert storage.transcriber is not None
    with pytest.raises(TranscriptionError, match="TRANSCRIBE_TIMEOUT"):
        storage.transcriber.transcribe(StoredAudio("meeting-abc", "meetings/x_a.wav", "audio/wav"))
    assert sum(job.sleeps) <= 60


def test_a_retry_waits_for_the_job_that_already_exists(
    transcribe: tuple[MeetingStorage, Stubber, FakeJob],
) -> None:
    storage, stubber, job = transcribe
    stubber.add_client_error(
        "start_transcription_job",
        service_error_code="ConflictException",
        service_message="The requested job name already exists.",
    )
    stubber.add_response("get_transcription_job", job_status("IN_PROGRESS"), None)
    stubber.add_response("get_transcription_job", job_status("COMPLETED"), None)
    job.request = {"OutputKey": layout.transcribe_output_key("meeting-abc")}
    assert storage.transcriber is not None
    transcript = storage.transcriber.transcribe(
        StoredAudio("meeting-abc", "meetings/x_a.wav", "audio/wav")
    )
    assert transcript.speakers == ["Speaker 1", "Speaker 2"]
    assert storage.audio.head(layout.transcribe_output_key("meeting-abc")) is None
