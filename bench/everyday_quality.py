"""Extraction quality on everyday meetings and on AMI, side by side, with each figure's goal.

The everyday set (`eval/everyday/`, written for this product) holds stand-ups, post-mortems,
planning, design reviews, 1:1s, customer calls, hiring debriefs, budget reviews, incidents,
steering committees and offsites, in the speech of real meetings; `dev/` is what the rules
were developed on, `heldout/` was written before and never used for tuning. Each meeting
has gold action items (text, owner, due), decisions, requirements and distractors: things
said that must not become items (hypotheticals, work already done, declined proposals,
jokes, work reassigned or cancelled later in the meeting).

For every extractor named with `--extractor` (default: rule-based; any choice of `analyze
--extractor`) it runs `python -m meeting_storage analyze --json` on every meeting, scores
the answers with the evaluation folder's score.py (unchanged) and prints one table: each
figure beside its goal (everyday sets) or the figure measured before the everyday work
(AMI dev), one column per extractor, and the extraction's seconds per meeting.

Figures:
- action F1@0.3: micro F1 of action items, a match needing token-overlap F1 >= 0.3;
- owners right: of the matched action items, the share whose owner is the gold owner;
- dues right: of the matched action items with a gold due, the share whose due says it;
- decision recall@0.3: the share of gold decisions found;
- distractors: predicted actions or decisions closer to a distractor (>= 0.3) than to any
  gold item.
- kind detection: the share of meetings whose detected kind is the gold `kind`, from the
  wording alone and with the file name as a title hint (the same for every extractor: the
  kind is detected after extraction).

Run with `make bench`; `--extractor configured` adds the configured extractor's column.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.extraction_quality import load_meetings, load_scorer
from meeting_storage.analysis import parse_transcript
from meeting_storage.analysis.kinds import detect_kind

REPO = Path(__file__).resolve().parents[1]
EVERYDAY = REPO / "eval" / "everyday"
THRESHOLD = 0.3
# The figures measured on AMI dev by the rule-based extractor before the everyday work.
AMI_BEFORE = {
    "action F1@0.3": 0.600,
    "action F1@0.5": 0.467,
    "decision F1@0.3": 0.312,
    "decision recall@0.3": 0.294,
    "decision F1@0.5": 0.250,
}
EVERYDAY_GOALS = {
    "action F1@0.3": ">= 0.70",
    "owners right": ">= 0.95",
    "decision recall@0.3": ">= 0.60",
}
AMI_ATTRIBUTION = "AMI Meeting Corpus (University of Edinburgh et al.), CC BY 4.0"
KIND_GOAL = ">= 0.90"


def eval_dir() -> Path | None:
    """The shared evaluation folder (score.py, ami-dev): MEETING_EVAL_DIR, else the nearest
    `shared/eval` beside the repository or a folder above it."""
    configured = os.environ.get("MEETING_EVAL_DIR")
    if configured:
        return Path(configured)
    for folder in REPO.parents:
        if (folder / "shared" / "eval" / "score.py").is_file():
            return folder / "shared" / "eval"
    return None


@dataclass(frozen=True)
class Predicted:
    """What an extractor found in one meeting."""

    actions: list[dict[str, Any]]
    decisions: list[str]
    seconds: float


def _with_this_checkout() -> dict[str, str]:
    """The environment with this repository first on the path: the command analyses with the
    code beside the bench, not with whatever copy of the package the venv has installed."""
    paths = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


_ANALYZE = (sys.executable, "-m", "meeting_storage", "analyze", "--transcript")


def analyze(transcript: str, extractor: str, workdir: Path, name: str) -> Predicted:
    """The `analyze --json` answer for one transcript."""
    path = workdir / f"{name}.txt"
    path.write_text(transcript, encoding="utf-8")
    completed = subprocess.run(
        [*_ANALYZE, str(path), "--json", "--extractor", extractor],
        capture_output=True,
        text=True,
        check=False,
        cwd=workdir,
        env=_with_this_checkout(),
    )
    answer = json.loads(completed.stdout)
    if not answer.get("success"):
        raise SystemExit(f"analyze failed for {name}: {answer}")
    summary = answer["meeting_summary"]
    return Predicted(
        actions=[a if isinstance(a, dict) else {"text": str(a)} for a in summary["action_items"]],
        decisions=[
            str(d.get("text", "")) if isinstance(d, dict) else str(d) for d in summary["decisions"]
        ],
        seconds=float(answer["elapsed_seconds"]),
    )


def _same_owner(predicted: object, gold: object) -> bool:
    def bare(value: object) -> str:
        return re.sub(r"^the\s+", "", str(value or "").strip().lower())

    return bool(bare(gold)) and bare(predicted) == bare(gold)


def _due_says(predicted: object, gold: object) -> bool:
    p, g = str(predicted or "").lower(), str(gold or "").lower()
    return bool(p) and (g in p or p in g)


_NEGATION = re.compile(r"\b(?:not|no|never|won't|don't)\b", re.I)


def distractor_hits(
    scorer: ModuleType, record: dict[str, Any], predicted: list[str]
) -> list[tuple[str, str]]:
    """(predicted item, distractor) for every item closer to a distractor than to any gold item.

    A decision that turns a proposal down ("We will not move to a managed database") is the
    opposite of the proposal, not the proposal: negated items only match negated distractors.
    """
    gold = [*record["actions"], *record["decisions"], *record.get("requirements", [])]
    hits = []
    for text in predicted:
        distractors = [
            d
            for d in record.get("distractors", [])
            if bool(_NEGATION.search(d)) == bool(_NEGATION.search(text))
        ]
        near = max(distractors, key=lambda d: scorer.similarity(text, d), default=None)
        if near is None:
            continue
        near_distractor = scorer.similarity(text, near)
        near_gold = max((scorer.similarity(text, g) for g in gold), default=0.0)
        if near_distractor >= THRESHOLD and near_distractor > near_gold:
            hits.append((text, near))
    return hits


def score_set(
    scorer: ModuleType, meetings: dict[str, dict[str, Any]], predicted: dict[str, Predicted]
) -> dict[str, float]:
    """The figures of one extractor on one set of meetings (see the module's docstring)."""
    tp = n_pred = n_gold = 0
    d_tp = d_pred = d_gold = 0
    d5_tp = a5_tp = 0
    owners = owners_right = dues = dues_right = distractors = 0
    for meeting, record in meetings.items():
        found = predicted[meeting]
        texts = [str(a.get("text", "")) for a in found.actions]
        gold_actions = list(record["actions"])
        result = scorer.score(texts, gold_actions, THRESHOLD)
        tp, n_pred, n_gold = tp + result["tp"], n_pred + result["n_pred"], n_gold + result["n_gold"]
        a5_tp += scorer.score(texts, gold_actions, 0.5)["tp"]
        decisions = scorer.score(found.decisions, list(record["decisions"]), THRESHOLD)
        d_tp, d_pred = d_tp + decisions["tp"], d_pred + decisions["n_pred"]
        d_gold += decisions["n_gold"]
        d5_tp += scorer.score(found.decisions, list(record["decisions"]), 0.5)["tp"]
        details = record.get("action_items") or []
        for i, j, _ in scorer.match(texts, gold_actions, THRESHOLD):
            if j >= len(details):
                continue
            owners += 1
            owners_right += _same_owner(found.actions[i].get("owner"), details[j].get("owner"))
            if details[j].get("due"):
                dues += 1
                dues_right += _due_says(found.actions[i].get("due"), details[j]["due"])
        distractors += len(distractor_hits(scorer, record, [*texts, *found.decisions]))
    count = max(1, len(meetings))
    return {
        "action F1@0.3": scorer._prf(tp, n_pred, n_gold)[2],
        "action precision@0.3": scorer._prf(tp, n_pred, n_gold)[0],
        "action recall@0.3": scorer._prf(tp, n_pred, n_gold)[1],
        "action F1@0.5": scorer._prf(a5_tp, n_pred, n_gold)[2],
        "owners right": owners_right / owners if owners else 0.0,
        "dues right": dues_right / dues if dues else 0.0,
        "decision recall@0.3": scorer._prf(d_tp, d_pred, d_gold)[1],
        "decision F1@0.3": scorer._prf(d_tp, d_pred, d_gold)[2],
        "decision F1@0.5": scorer._prf(d5_tp, d_pred, d_gold)[2],
        "distractors": float(distractors),
        "actions per meeting": n_pred / count,
        "gold actions per meeting": n_gold / count,
        "seconds per meeting": sum(p.seconds for p in predicted.values()) / count,
    }


def run_set(
    scorer: ModuleType, meetings: dict[str, dict[str, Any]], extractor: str
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        predicted = {
            meeting: analyze(str(record["transcript"]), extractor, Path(tmp), meeting)
            for meeting, record in meetings.items()
        }
    return score_set(scorer, meetings, predicted)


def kind_accuracy(meetings: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The share of meetings whose detected kind is the gold one, from the wording alone and
    with the file name (`<meeting>.txt`, as `analyze` is given it) as a title hint."""
    wording = named = 0
    for meeting, record in meetings.items():
        transcript = parse_transcript(str(record["transcript"]))
        wording += detect_kind(transcript) == record["kind"]
        named += detect_kind(transcript, f"{meeting}.txt") == record["kind"]
    count = max(1, len(meetings))
    return {
        "kind detection (wording)": wording / count,
        "kind detection (with file name)": named / count,
    }


EVERYDAY_ROWS = (
    "action F1@0.3",
    "action precision@0.3",
    "action recall@0.3",
    "owners right",
    "dues right",
    "decision recall@0.3",
    "decision F1@0.3",
    "distractors",
    "actions per meeting",
    "seconds per meeting",
)
AMI_ROWS = (*AMI_BEFORE, "actions per meeting", "seconds per meeting")


def _goal(set_name: str, row: str, meetings: int) -> str:
    if set_name == "AMI dev":
        before = AMI_BEFORE.get(row)
        return f"before: {before:.3f}" if before is not None else ""
    if row == "distractors":
        return f"<= {max(1, meetings // 12)}"
    if row == "actions per meeting":
        return "gold: {gold}"
    return EVERYDAY_GOALS.get(row, "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--extractor",
        action="append",
        help="an `analyze --extractor` choice; repeat for one column each (default rule-based)",
    )
    args = parser.parse_args(argv)
    extractors = args.extractor or ["rule-based"]
    folder = eval_dir()
    if folder is None or not (folder / "score.py").is_file():
        print(
            "Everyday extraction benchmark skipped: no shared evaluation folder with score.py "
            "(set MEETING_EVAL_DIR to it).",
            file=sys.stderr,
        )
        return 0
    scorer = load_scorer(folder)
    sets = {"everyday dev": EVERYDAY / "dev", "everyday held-out": EVERYDAY / "heldout"}
    if (folder / "ami-dev").is_dir():
        sets["AMI dev"] = folder / "ami-dev"
    print("Extraction quality: everyday meetings (eval/everyday) and AMI dev")
    print("scored with score.py (token-overlap F1 >= threshold, one-to-one, micro-averaged)")
    print()
    print("| set | figure | goal / before | " + " | ".join(extractors) + " |")
    print("|---|---|---|" + "---:|" * len(extractors))
    for set_name, gold_dir in sets.items():
        meetings = load_meetings(gold_dir)
        results = [run_set(scorer, meetings, name) for name in extractors]
        rows = AMI_ROWS if set_name == "AMI dev" else EVERYDAY_ROWS
        label = f"{set_name} ({len(meetings)})"
        for row in rows:
            goal = _goal(set_name, row, len(meetings)).format(
                gold=f"{results[0]['gold actions per meeting']:.1f}"
            )
            cells = []
            for result in results:
                value = result[row]
                cells.append(f"{value:.0f}" if row == "distractors" else f"{value:.3f}")
            print(f"| {label} | {row} | {goal} | " + " | ".join(cells) + " |")
    for set_name, gold_dir in sets.items():
        if set_name == "AMI dev":
            continue
        meetings = load_meetings(gold_dir)
        for row, value in kind_accuracy(meetings).items():
            wording_on_dev = set_name == "everyday dev" and row.endswith("(wording)")
            goal = KIND_GOAL if wording_on_dev else ""
            cells = [f"{value:.3f}"] * len(extractors)
            print(f"| {set_name} ({len(meetings)}) | {row} | {goal} | " + " | ".join(cells) + " |")
    print()
    print(f"AMI data: {AMI_ATTRIBUTION}. Everyday meetings: written for this product.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
