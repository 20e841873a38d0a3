"""Turning a recording or transcript into a summary, action items, decisions and requirements.

transcript.py parses transcripts (text, WebVTT, SRT, AWS Transcribe JSON) into utterances;
extract.py defines what an extractor returns; rule_based.py and bedrock.py are extractors;
transcribe.py defines transcribers, with aws_transcribe.py and whisper.py as backends.
"""

from meeting_storage.analysis.extract import Extraction, Extractor, ModelUsage
from meeting_storage.analysis.rule_based import RuleBasedExtractor
from meeting_storage.analysis.transcript import (
    Transcript,
    Utterance,
    decode_transcript,
    parse_transcript,
)

__all__ = [
    "Extraction",
    "Extractor",
    "ModelUsage",
    "RuleBasedExtractor",
    "Transcript",
    "Utterance",
    "decode_transcript",
    "parse_transcript",
]
