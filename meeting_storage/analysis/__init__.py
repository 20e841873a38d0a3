"""Turning a recording or transcript into a summary, action items, decisions and requirements.

The typed results (Summary, ActionItem, Decision, Requirement) live in
meeting_storage.core.analysis, below every layer that stores or shows them; they are
re-exported here.

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
from meeting_storage.core.analysis import (
    PRIORITIES,
    ActionItem,
    Decision,
    Requirement,
    Summary,
    requirements_from_json,
    requirements_to_json,
)

__all__ = [
    "PRIORITIES",
    "ActionItem",
    "Decision",
    "Extraction",
    "Extractor",
    "ModelUsage",
    "Requirement",
    "RuleBasedExtractor",
    "Summary",
    "Transcript",
    "Utterance",
    "decode_transcript",
    "parse_transcript",
    "requirements_from_json",
    "requirements_to_json",
]
