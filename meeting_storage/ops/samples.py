"""A few small sample meetings, so a demo on an empty store works in seconds.

Each sample has a realistic transcript (with action items, decisions and requirements the
extractor finds) and a short WAV clip generated here (a few soft tones, 8 kHz mono), so
nothing binary is kept in the repository. `store_samples` stores them through the normal
`process` path, exactly like an upload.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from meeting_storage.core.models import ProcessResult, utc_now

if TYPE_CHECKING:
    from meeting_storage.service.facade import MeetingStorage

SAMPLE_RATE = 8000
SAMPLE_TAG = "sample"


@dataclass(frozen=True)
class SampleMeeting:
    title: str
    filename: str
    transcript: str
    notes_hz: tuple[float, ...]
    days_ago: int


SAMPLES: tuple[SampleMeeting, ...] = (
    SampleMeeting(
        title="Sprint planning: mobile app",
        filename="sprint-planning.wav",
        days_ago=1,
        notes_hz=(392.0, 440.0, 523.25, 440.0),
        transcript="""\
Priya: Good morning. The goal for this sprint is offline mode for the mobile app.
Marco: The app must keep working without a network connection for at least a day.
Priya: We decided to store drafts locally and sync them when the connection returns.
Lena: The sync should never overwrite changes made on another device.
Marco: I will write the conflict resolution design by Wednesday.
Lena: I will update the test plan for flaky networks by Friday.
Priya: It would be nice to have a sync status indicator, but it is optional for now.
Marco: Lena needs to check the battery impact of background sync before the release.
""",
    ),
    SampleMeeting(
        title="Customer feedback review",
        filename="customer-feedback.wav",
        days_ago=4,
        notes_hz=(330.0, 392.0, 330.0, 294.0),
        transcript="""\
Sam: We reviewed forty support tickets from the last month.
Aiko: Most complaints are about exporting reports; the export must support CSV and PDF.
Sam: Users also say the search feature should find meetings by participant name.
Aiko: We agreed to prioritise the export fix over the new dashboard widgets.
Sam: I will draft replies to the five largest customers by tomorrow.
Aiko: Jonas will schedule interviews with three customers next week.
Sam: The product should show a clear error when an upload is too large.
""",
    ),
    SampleMeeting(
        title="Budget and vendor decision",
        filename="budget-review.wav",
        days_ago=9,
        notes_hz=(261.63, 329.63, 392.0, 523.25),
        transcript="""\
Grace: We have two offers for the transcription service and one budget line.
Omar: The vendor must keep all recordings inside the EU region.
Grace: After comparing both offers, we decided to go with the cheaper annual plan.
Omar: I will send the signed contract to legal by Monday.
Grace: Finance needs to approve the purchase order before the end of the month.
Omar: The system should alert us when monthly storage cost passes one hundred dollars.
Grace: I will set up a cost review meeting for next month.
""",
    ),
    SampleMeeting(
        title="Incident retrospective: login outage",
        filename="login-outage-retro.wav",
        days_ago=16,
        notes_hz=(440.0, 415.3, 392.0, 349.23),
        transcript="""\
Nina: On Tuesday logins failed for forty minutes after the certificate expired.
Felix: The monitoring must alert at least fourteen days before a certificate expires.
Nina: We agreed that certificate renewal will be automated for every service.
Felix: I will set up the renewal job for the web servers by Thursday.
Nina: Carla will write the customer status update today.
Felix: The login page should show a maintenance message instead of a blank error.
Nina: Could we also rotate the on-call schedule? That is nice to have, not urgent.
""",
    ),
)


def sample_audio(sample: SampleMeeting, seconds_per_note: float = 0.9) -> bytes:
    """A short, playable mono 16-bit WAV clip: the sample's notes with soft fades."""
    buffer = io.BytesIO()
    fade = int(0.05 * SAMPLE_RATE)
    per_note = int(seconds_per_note * SAMPLE_RATE)
    frames = bytearray()
    for frequency in sample.notes_hz:
        for n in range(per_note):
            envelope = min(1.0, n / fade, (per_note - n) / fade)
            value = 0.3 * envelope * math.sin(2 * math.pi * frequency * n / SAMPLE_RATE)
            frames += struct.pack("<h", int(32767 * value))
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def store_samples(
    storage: MeetingStorage, progress: Callable[[int, int], None] | None = None
) -> list[ProcessResult]:
    """Store every sample meeting (recording and transcript), dated over the last weeks."""
    now = utc_now()
    results = []
    for done, sample in enumerate(SAMPLES):
        results.append(
            storage.process(
                sample.transcript,
                audio_file=io.BytesIO(sample_audio(sample)),
                audio_filename=sample.filename,
                title=sample.title,
                tags=(SAMPLE_TAG,),
                recorded_at=now - timedelta(days=sample.days_ago, hours=done),
            )
        )
        if progress is not None:
            progress(done + 1, len(SAMPLES))
    return results
