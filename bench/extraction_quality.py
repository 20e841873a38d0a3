"""Extraction quality on real meetings, scored by the shared scorer, and extraction speed.

For every meeting of the evaluation set (AMI Meeting Corpus transcripts with human-written
action items and decisions) it runs `python -m meeting_storage analyze --transcript FILE
--json --extractor rule-based`, scores action items and decisions with the evaluation
folder's score.py at similarity thresholds 0.3 and 0.5, and prints precision, recall, F1
and items per meeting next to a baseline that takes every sentence containing "will",
"need to" or "should". Then it times the rule-based extractor on a 10,000-word transcript
(about an hour of talk) made of the same meetings.

The evaluation folder is `../shared/eval` next to the repository (MEETING_EVAL_DIR
overrides it). `--gold DIR` scores another folder of meetings of the same shape
(`<meeting>.json` with "transcript", "actions" and "decisions") with the same scorer.
Run with `make bench`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from meeting_storage.analysis import RuleBasedExtractor, parse_transcript

REPO = Path(__file__).resolve().parents[1]
DEFAULT_EVAL_DIR = REPO.parent / "shared" / "eval"
THRESHOLDS = (0.3, 0.5)
FIELDS = ("actions", "decisions")
SPEED_WORDS = 10_000
SPEED_REPEATS = 5
ATTRIBUTION = "AMI Meeting Corpus (University of Edinburgh et al.), CC BY 4.0"
_BASELINE_CUE = re.compile(r"\b(?:will|need to|should)\b", re.I)
_SPEAKER = re.compile(r"^\s*[^:]{1,40}:\s+")


def eval_dir() -> Path:
    return Path(os.environ.get("MEETING_EVAL_DIR") or DEFAULT_EVAL_DIR)


def load_scorer(folder: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_score", folder / "score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_meetings(gold_dir: Path) -> dict[str, dict[str, Any]]:
    meetings = {}
    for path in sorted(gold_dir.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        meetings[str(record.get("meeting", path.stem))] = record
    return meetings


def analyze_with_cli(transcript: str, workdir: Path, name: str) -> tuple[dict[str, Any], float]:
    """The `analyze --json` answer for one transcript, and the command's wall time."""
    path = workdir / f"{name}.txt"
    path.write_text(transcript, encoding="utf-8")
    command = [sys.executable, "-m", "meeting_storage", "analyze", "--transcript", str(path)]
    started = time.perf_counter()
    completed = subprocess.run(
        [*command, "--json", "--extractor", "rule-based"],
        capture_output=True,
        text=True,
        check=False,
        cwd=workdir,
    )
    elapsed = time.perf_counter() - started
    answer = json.loads(completed.stdout)
    if not answer.get("success"):
        raise SystemExit(f"analyze failed for {name}: {answer}")
    return answer, elapsed


def item_texts(items: list[Any]) -> list[str]:
    return [str(item.get("text", "")) if isinstance(item, dict) else str(item) for item in items]


def baseline(transcript: str) -> list[str]:
    """Every sentence containing "will", "need to" or "should"."""
    found = []
    for line in transcript.splitlines():
        body = _SPEAKER.sub("", line)
        for sentence in re.split(r"(?<=[.!?])\s+", body):
            if _BASELINE_CUE.search(sentence):
                found.append(sentence.strip())
    return found


def micro(
    scorer: ModuleType,
    predictions: dict[str, list[str]],
    gold: dict[str, list[str]],
    threshold: float,
) -> tuple[float, float, float, float]:
    """Micro-averaged precision, recall, F1 (as score.py computes them) and items per meeting."""
    tp = n_pred = n_gold = 0
    for meeting, expected in gold.items():
        result = scorer.score(predictions.get(meeting, []), expected, threshold)
        tp, n_pred, n_gold = tp + result["tp"], n_pred + result["n_pred"], n_gold + result["n_gold"]
    precision, recall, f1 = scorer._prf(tp, n_pred, n_gold)
    return precision, recall, f1, n_pred / max(1, len(gold))


def speed(meetings: dict[str, dict[str, Any]]) -> tuple[int, float, float]:
    """(words, median seconds, slowest seconds) to parse and extract ~10,000 words."""
    lines: list[str] = []
    count = 0
    while count < SPEED_WORDS:
        for record in meetings.values():
            for line in str(record["transcript"]).splitlines():
                lines.append(line)
                count += len(_SPEAKER.sub("", line).split())
                if count >= SPEED_WORDS:
                    break
            if count >= SPEED_WORDS:
                break
    text = "\n".join(lines)
    extractor = RuleBasedExtractor()
    times = []
    for _ in range(SPEED_REPEATS):
        started = time.perf_counter()
        extractor.extract(parse_transcript(text))
        times.append(time.perf_counter() - started)
    return count, statistics.median(times), max(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", type=Path, help="a folder of <meeting>.json files to score")
    args = parser.parse_args(argv)
    folder = eval_dir()
    gold_dir = args.gold or folder / "ami-dev"
    if not (folder / "score.py").is_file() or not gold_dir.is_dir():
        print(
            f"Extraction quality benchmark skipped: no evaluation set at {folder} (expected "
            f"score.py there, and the meetings in {gold_dir}). Set MEETING_EVAL_DIR to its "
            "folder.",
            file=sys.stderr,
        )
        return 0
    scorer = load_scorer(folder)
    meetings = load_meetings(gold_dir)
    ours: dict[str, dict[str, list[str]]] = {field: {} for field in FIELDS}
    floor: dict[str, list[str]] = {}
    cli_seconds = []
    words = 0
    with tempfile.TemporaryDirectory() as tmp:
        for meeting, record in meetings.items():
            transcript = str(record["transcript"])
            answer, elapsed = analyze_with_cli(transcript, Path(tmp), meeting)
            cli_seconds.append(elapsed)
            words += int(answer["transcript"]["words"])
            summary = answer["meeting_summary"]
            ours["actions"][meeting] = item_texts(summary["action_items"])
            ours["decisions"][meeting] = item_texts(summary["decisions"])
            floor[meeting] = baseline(transcript)

    print(f"Extraction quality on {len(meetings)} meetings ({words:,} words) of the {ATTRIBUTION}")
    print(
        "scored with score.py (token-overlap F1 >= threshold, one-to-one matching), micro-averaged"
    )
    print()
    print("| items | threshold | extractor | precision | recall | F1 | items per meeting |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for field in FIELDS:
        gold = {meeting: list(record[field]) for meeting, record in meetings.items()}
        for threshold in THRESHOLDS:
            for name, predictions in (("rule-based", ours[field]), ("baseline", floor)):
                p, r, f1, per_meeting = micro(scorer, predictions, gold, threshold)
                print(
                    f"| {field} | {threshold} | {name} | {p:.3f} | {r:.3f} | {f1:.3f} | "
                    f"{per_meeting:.1f} |"
                )
    gold_counts = {f: sum(len(r[f]) for r in meetings.values()) / len(meetings) for f in FIELDS}
    print()
    print(
        f"Gold items per meeting: {gold_counts['actions']:.1f} actions, "
        f"{gold_counts['decisions']:.1f} decisions. Baseline: every sentence containing "
        '"will", "need to" or "should".'
    )
    count, median, slowest = speed(meetings)
    print()
    print(
        f"Speed: rule-based extraction (parse + extract) of a {count:,}-word transcript: "
        f"{median * 1000:.0f} ms median of {SPEED_REPEATS} (slowest {slowest * 1000:.0f} ms). "
        f"`analyze` command per meeting, including Python start-up: "
        f"{statistics.median(cli_seconds) * 1000:.0f} ms median."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
