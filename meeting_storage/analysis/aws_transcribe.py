"""Amazon Transcribe: a job on the recording already in the bucket, polled until it is done.

- The job reads `s3://bucket/meetings/...` directly (no second upload) and is named after the
  meeting id, so a retry finds the same job instead of starting another.
- Speaker labels are on; the output is written to our own bucket
  (`transcriptions/{meeting_id}/aws-transcribe.json`), read back, parsed and removed. That
  needs no permission beyond what the product already has (s3:PutObject and s3:GetObject on
  transcriptions/*) plus transcribe:StartTranscriptionJob and transcribe:GetTranscriptionJob;
  reading Transcribe's own TranscriptFileUri instead would leave a copy of the transcript in
  a service bucket for 90 days.
- Polling backs off from 2 to 30 seconds and gives up after TRANSCRIBE_TIMEOUT seconds.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from meeting_storage.analysis.transcribe import TRANSCRIBER_AWS, StoredAudio
from meeting_storage.analysis.transcript import Transcript, parse_aws_transcribe
from meeting_storage.core import layout
from meeting_storage.core.errors import (
    AccessDeniedError,
    MeetingStorageError,
    NotFoundError,
    TranscriptionError,
    UnsupportedMediaTypeError,
    client_error_code,
    translate_transcribe_error,
)
from meeting_storage.storage.aws import AWS_ERRORS

if TYPE_CHECKING:
    from meeting_storage.storage.blobs import S3BlobStore

# Content types we store (media.py) -> Transcribe's MediaFormat.
MEDIA_FORMATS = {
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "m4a",
    "video/mp4": "mp4",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
    "video/webm": "webm",
    "audio/webm": "webm",
    "audio/amr": "amr",
}
MAX_SPEAKERS = 10
FIRST_POLL_SECONDS = 2.0
MAX_POLL_SECONDS = 30.0


class AwsTranscribeTranscriber:
    name = TRANSCRIBER_AWS

    def __init__(
        self,
        client: Any,
        store: S3BlobStore,
        *,
        language: str = "en-US",
        timeout: float = 1800,
        max_speakers: int = MAX_SPEAKERS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.store = store
        self.language = language
        self.timeout = timeout
        self.max_speakers = max_speakers
        self._sleep = sleep
        self._clock = clock

    def transcribe(self, audio: StoredAudio) -> Transcript:
        media_format = media_format_of(audio)
        job_name = audio.meeting_id
        output_key = layout.transcribe_output_key(audio.meeting_id)
        try:
            self._start(job_name, media_format, audio.key, output_key)
            job = self._wait(job_name)
            return self._read_output(job, output_key)
        finally:
            # The output has been read (or never will be by us): keep the meeting's folder tidy.
            with contextlib.suppress(MeetingStorageError):
                self.store.delete([output_key])

    # ------------------------------------------------------------------ steps

    def _start(self, job_name: str, media_format: str, key: str, output_key: str) -> None:
        request: dict[str, Any] = {
            "TranscriptionJobName": job_name,
            "MediaFormat": media_format,
            "Media": {"MediaFileUri": f"s3://{self.store.bucket}/{key}"},
            "OutputBucketName": self.store.bucket,
            "OutputKey": output_key,
            "Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": self.max_speakers},
        }
        if self.language == "auto":
            request["IdentifyLanguage"] = True
        else:
            request["LanguageCode"] = self.language
        try:
            self._client.start_transcription_job(**request)
        except AWS_ERRORS as exc:
            if client_error_code(exc) == "ConflictException":
                return  # a job for this meeting exists already (a retry): wait for that one
            raise translate_transcribe_error(exc, action="start a transcription job") from exc

    def _wait(self, job_name: str) -> dict[str, Any]:
        deadline = self._clock() + self.timeout
        delay = FIRST_POLL_SECONDS
        while True:
            try:
                response = self._client.get_transcription_job(TranscriptionJobName=job_name)
            except AWS_ERRORS as exc:
                raise translate_transcribe_error(exc, action="check the transcription job") from exc
            job: dict[str, Any] = response["TranscriptionJob"]
            status = job.get("TranscriptionJobStatus")
            if status == "COMPLETED":
                return job
            if status == "FAILED":
                raise _failed(job_name, str(job.get("FailureReason") or "no reason given"))
            if self._clock() + delay > deadline:
                raise TranscriptionError(
                    f"AWS Transcribe job {job_name} was still {str(status).lower()} after "
                    f"{self.timeout:.0f} seconds (TRANSCRIBE_TIMEOUT). The recording is stored; "
                    "when the job has finished, download its output JSON and attach it with "
                    f"`attach-transcript {job_name} --transcript FILE`."
                )
            self._sleep(delay)
            delay = min(MAX_POLL_SECONDS, delay * 1.5)

    def _read_output(self, job: dict[str, Any], output_key: str) -> Transcript:
        try:
            blob = self.store.get(output_key)
        except NotFoundError as exc:
            uri = job.get("Transcript", {}).get("TranscriptFileUri", "")
            raise TranscriptionError(
                f"AWS Transcribe finished but its output is not at s3://{self.store.bucket}/"
                f"{output_key} ({uri or 'no output location'})."
            ) from exc
        try:
            document = json.loads(blob.data)
        except ValueError as exc:
            raise TranscriptionError(f"AWS Transcribe's output is not JSON: {exc}") from exc
        utterances = parse_aws_transcribe(document)
        if not any(u.text for u in utterances):
            raise TranscriptionError("AWS Transcribe found no speech in the recording.")
        return Transcript(tuple(utterances), "aws_transcribe")


def media_format_of(audio: StoredAudio) -> str:
    """Transcribe's MediaFormat for a stored recording, or UnsupportedMediaTypeError."""
    if audio.content_type in MEDIA_FORMATS:
        return MEDIA_FORMATS[audio.content_type]
    extension = layout.file_extension(audio.key)
    if extension in set(MEDIA_FORMATS.values()):
        return extension
    raise UnsupportedMediaTypeError(
        f"AWS Transcribe cannot read {audio.content_type or 'this kind of file'} "
        f"({audio.key}); it accepts {', '.join(sorted(set(MEDIA_FORMATS.values())))}."
    )


def _failed(job_name: str, reason: str) -> MeetingStorageError:
    lowered = reason.lower()
    if "format" in lowered or "codec" in lowered or ("media" in lowered and "not" in lowered):
        return UnsupportedMediaTypeError(
            f"AWS Transcribe could not read the recording: {reason}. Convert it to mp3, m4a, "
            "wav or flac and upload it again, or attach a transcript."
        )
    if "access" in lowered or "permission" in lowered:
        return AccessDeniedError(
            f"AWS Transcribe job {job_name} failed: {reason}. Transcribe reads the recording and "
            "writes its output with your permissions: allow s3:GetObject on meetings/* and "
            "s3:PutObject on transcriptions/*."
        )
    return TranscriptionError(f"AWS Transcribe job {job_name} failed: {reason}.")
