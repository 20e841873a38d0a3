"""`upload FILE` of a file on disk goes by its path (s3transfer reads each part from the file
as it sends it, in parallel); a pipe is still streamed. Memory and throughput are measured in
bench/upload_memory.py."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from meeting_storage import MeetingStorage
from meeting_storage.core.errors import FileTooLargeError, UnsupportedMediaTypeError
from meeting_storage.storage.blobs import S3BlobStore
from tests.conftest import PROJECT_ROOT, settings_environment, wav_header_then
from tests.test_cli import run

MIB = 1024 * 1024


def test_a_file_is_uploaded_by_path_in_parts_with_its_digest(
    storage: MeetingStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = wav_header_then(40 * MIB + 123)  # three 16 MiB parts
    path = tmp_path / "All hands.wav"
    path.write_bytes(data)

    def no_stream(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a file on disk is not streamed through a reader")

    monkeypatch.setattr(S3BlobStore, "upload_stream", no_stream)
    uploaded = storage.upload_audio_path(path)
    assert uploaded.size == len(data) and uploaded.content_type == "audio/wav"
    assert uploaded.sha256 == hashlib.sha256(data).hexdigest()
    assert uploaded.audio_s3_key.endswith("_All hands.wav")
    info = storage.audio.head(uploaded.audio_s3_key)
    assert info is not None and info.size == len(data)
    assert storage.audio.content_sha256(uploaded.audio_s3_key) == uploaded.sha256
    assert "-" in info.etag  # a multipart upload's ETag


def test_a_refused_file_leaves_nothing_behind(moto_storage: MeetingStorage, tmp_path: Path) -> None:
    notes = tmp_path / "notes.wav"
    notes.write_bytes(b"minutes, not sound " * 100)
    with pytest.raises(UnsupportedMediaTypeError):
        moto_storage.upload_audio_path(notes)
    small = MeetingStorage(dataclasses.replace(moto_storage.settings, max_upload_bytes=MIB))
    big = tmp_path / "big.wav"
    big.write_bytes(wav_header_then(MIB + 1))
    with pytest.raises(FileTooLargeError):
        small.upload_audio_path(big)
    assert list(moto_storage.audio.iter_objects("meetings/")) == []  # audit events stay


def test_the_local_copy_is_kept_when_asked_for(
    moto_storage: MeetingStorage, tmp_path: Path
) -> None:
    keeping = MeetingStorage(dataclasses.replace(moto_storage.settings, skip_local_storage=False))
    path = tmp_path / "kept.wav"
    path.write_bytes(wav_header_then(2 * MIB))
    uploaded = keeping.upload_audio_path(path, "Kept.wav")
    assert uploaded.local_copy and Path(uploaded.local_copy).read_bytes() == path.read_bytes()


def test_the_cli_uploads_a_file_by_path_and_a_pipe_as_a_stream(
    capsys: pytest.CaptureFixture[str],
    moto_storage: MeetingStorage,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "sync.wav"
    path.write_bytes(wav_header_then(MIB))
    by_path: list[Path] = []
    real = MeetingStorage.upload_audio_path

    def spy(self: MeetingStorage, file: Path, filename: str | None = None) -> Any:
        by_path.append(file)
        return real(self, file, filename)

    monkeypatch.setattr(MeetingStorage, "upload_audio_path", spy)
    status, data = run(capsys, moto_storage, "upload", str(path))
    assert status == 0 and data["size"] == MIB and by_path == [path]

    read, write = os.pipe()
    os.write(write, wav_header_then(4096))
    os.close(write)
    status, data = run(capsys, moto_storage, "upload", f"/dev/fd/{read}", "--filename", "p.wav")
    os.close(read)
    assert status == 0 and data["size"] == 4096 and by_path == [path]


@pytest.mark.seaweedfs
def test_the_cli_uploads_by_path_to_seaweedfs(
    seaweed_storage: MeetingStorage, tmp_path: Path
) -> None:
    path = tmp_path / "long.wav"
    path.write_bytes(wav_header_then(20 * MIB))
    env = {**os.environ, **settings_environment(seaweed_storage.settings)}
    done = subprocess.run(
        [sys.executable, "-m", "meeting_storage", "upload", str(path), "--json"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"size": 20971520' in done.stdout
