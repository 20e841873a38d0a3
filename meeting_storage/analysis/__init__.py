"""Turning a transcript into a summary, action items, decisions and requirements."""

from .extract import Extraction, Extractor, RuleBasedExtractor
from .transcript import decode_transcript

__all__ = ["Extraction", "Extractor", "RuleBasedExtractor", "decode_transcript"]
