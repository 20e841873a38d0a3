"""Peak memory of the offline transcriber at a 10-minute and a 3-hour recording.

The recordings are generated: 16 kHz mono WAV of very quiet noise, so the voice activity
detector (VAD) in faster-whisper finds no speech and the Whisper model itself decodes
nothing; what is measured is everything the length of a recording can make grow: decoding
the file with PyAV, resampling, the VAD over every sample, and the windows handed to the
model (its weights are loaded either way). Transcribing three hours of real speech on two
cores would take hours, and its memory does not grow with length once windows are bounded.

Rows, each a process of its own (peak RSS from the kernel, wait4):
- windowed: `WhisperTranscriber.transcribe_file` as a worker runs it (10-minute windows);
- decode only: the windows alone, without the model;
- before: faster-whisper given the whole file, as the transcriber did until now.

Run: `python -m bench.transcriber_memory [--long-minutes 180] [--skip-before]`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RATE = 16_000
GOAL_MB = 300

WINDOWED = """
import sys
from pathlib import Path
from meeting_storage.analysis.whisper import WhisperTranscriber
from meeting_storage.core.errors import TranscriptionError
try:
    WhisperTranscriber(lambda key, handle: None).transcribe_file(Path(sys.argv[1]))
except TranscriptionError as error:
    assert "No speech" in error.message, error.message
"""
DECODE_ONLY = """
import sys
from pathlib import Path
from meeting_storage.analysis.whisper import decode_windows
seconds = sum(len(samples) for _, samples, _ in decode_windows(Path(sys.argv[1]))) / 16000
print(seconds)
"""
BEFORE = """
import sys
from meeting_storage.analysis.whisper import BEAM_SIZE, _load_model, bundled_model_dir
model = _load_model(bundled_model_dir(), 0)
segments, _ = model.transcribe(sys.argv[1], language="en", beam_size=BEAM_SIZE,
                               vad_filter=True, condition_on_previous_text=False)
list(segments)
"""
METHODS = {"windowed (10-minute windows)": WINDOWED, "decode only": DECODE_ONLY}


def quiet_wav(path: Path, minutes: float) -> Path:
    """Very quiet noise (about -70 dBFS), written a minute at a time."""
    import numpy as np

    generator = np.random.default_rng(15)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        left = int(minutes * 60 * RATE)
        while left:
            count = min(left, 60 * RATE)
            out.writeframes(generator.integers(-10, 10, count, dtype=np.int16).tobytes())
            left -= count
    return path


def measure(script: str, path: Path) -> tuple[float, float]:
    """(peak RSS MB, wall seconds) of one process running `script` on `path`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        assert process.stderr is not None
        raise SystemExit(process.stderr.read().decode()[-2000:])
    return usage.ru_maxrss / 1024, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--short-minutes", type=float, default=10)
    parser.add_argument("--long-minutes", type=float, default=180)
    parser.add_argument("--skip-before", action="store_true", help="leave out the old path")
    args = parser.parse_args()
    methods = dict(METHODS)
    if not args.skip_before:
        methods["before: whole file at once"] = BEFORE
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-whisper-") as folder:
        short = quiet_wav(Path(folder) / "short.wav", args.short_minutes)
        long = quiet_wav(Path(folder) / "long.wav", args.long_minutes)
        for name, script in methods.items():
            short_peak, short_wall = measure(script, short)
            long_peak, long_wall = measure(script, long)
            rows.append((name, short_peak, long_peak, short_wall, long_wall))
    print(
        f"\nOffline transcriber, peak RSS: {args.short_minutes:g} minutes against "
        f"{args.long_minutes:g} minutes of (near-silent) 16 kHz WAV\n"
    )
    print(
        f"| path | peak MB, {args.short_minutes:g} min | peak MB, {args.long_minutes:g} min "
        "| growth MB | seconds (short / long) |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, short_peak, long_peak, short_wall, long_wall in rows:
        print(
            f"| {name} | {short_peak:.0f} | {long_peak:.0f} | {long_peak - short_peak:.0f} "
            f"| {short_wall:.0f} / {long_wall:.0f} |"
        )
    print(f"\nGoal: a worker's peak grows by at most {GOAL_MB} MB from the short to the long one.")


if __name__ == "__main__":
    main()
