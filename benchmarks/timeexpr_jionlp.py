"""Score ``pipelines.timeexpr`` on the JioNLP time-parser and time-extractor test cases.

Usage::

    .venv/bin/python benchmarks/timeexpr_jionlp.py [--data ../shared/eval/timeexpr] [--failures]

Parsing (``jionlp_parse_time_cases.jsonl``): only ``time_point`` cases are scored, since
``resolve_time`` returns one point. A case is correct when the resolved value matches the start of
the expected interval at the precision the text gives: the minute (or second) for ``datetime``,
the day for ``date``; a ``period`` is correct when its value lies inside the expected interval.
Cases we do not attempt are counted as unsupported, by reason: lunar dates, solar terms and
festivals outside the table, and cases whose original base was the test run's wall clock
(``time_base_now``). ``time_span``/``time_delta``/``time_period`` are unsupported by type.

Extraction (``jionlp_extract_time_cases.jsonl``): span precision/recall of ``find_times``, by exact
offsets and by overlap.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.timeexpr import find_times, resolve_time  # noqa: E402

_SHANGHAI = timezone(timedelta(hours=8))
_DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "eval" / "timeexpr"
_UNSUPPORTED = (
    (
        "lunar",
        re.compile(
            r"农历|阴历|廿|腊月|冬月|闰|(?<![年正])月初[一二三四五六七八九十]|^[一二三四五六七八九十]+月[一二三四五六七八九十]+$|八月十五|8月十五"
        ),
    ),
    ("solar_term", re.compile(r"冬至|大寒|小寒|芒种|立春|夏至|秋分|春分|清明(?!节)")),
    ("other_festival", re.compile(r"母亲节|父亲节|感恩节|教师节|妇女节|七夕|儿童节|情人节")),
)


def _parse_expected(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%d %H:%M:%S")


def _reference(case: dict[str, Any]) -> datetime:
    """The case's time base (JioNLP accepts an epoch, a list, or a dict of fields)."""
    if "time_base_epoch" in case:
        return datetime.fromtimestamp(float(case["time_base_epoch"]), _SHANGHAI)
    if "time_base_local" in case:
        return datetime.strptime(str(case["time_base_local"]), "%Y-%m-%d %H:%M:%S").replace(tzinfo=_SHANGHAI)
    base = case["time_base"]
    fields = ("year", "month", "day", "hour", "minute", "second")
    if isinstance(base, dict):
        base = [base.get(f, 1 if f in ("month", "day") else 0) for f in fields]
    parts = [int(x) for x in base] + [1, 1, 0, 0, 0][len(base) - 1 :]
    year, month, day, hour, minute, second = parts[:6]
    return datetime(year, month, day, hour, minute, second, tzinfo=_SHANGHAI)


def score_parse(path: Path, show_failures: bool) -> dict[str, object]:
    by_type: Counter[str] = Counter()
    unsupported: Counter[str] = Counter()
    attempted = resolved = correct = 0
    failures: list[dict[str, object]] = []
    per_def: dict[str, Counter[str]] = defaultdict(Counter)
    for line in path.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        expected = case["expected"]
        kind = expected["type"]
        by_type[kind] += 1
        if kind != "time_point":
            unsupported[f"type:{kind}"] += 1
            continue
        if case.get("time_base_now"):
            unsupported["base:wall_clock"] += 1
            continue
        reason = next((name for name, rx in _UNSUPPORTED if rx.search(case["text"])), None)
        if reason is not None:
            unsupported[reason] += 1
            continue
        attempted += 1
        per_def[expected["definition"]]["n"] += 1
        reference = _reference(case)
        mention = resolve_time(case["text"], reference)
        start, end = (_parse_expected(t) for t in expected["time"])
        ok = False
        got: str | None = None
        if mention is not None:
            resolved += 1
            value = mention.value.replace(tzinfo=None)
            got = f"{value.isoformat()} {mention.granularity}"
            if mention.granularity == "datetime":
                precise_seconds = start.second != 0 or end.second == start.second
                ok = value == start if precise_seconds else value.replace(second=0) == start.replace(second=0)
            elif mention.granularity == "date":
                ok = value.date() == start.date()
            else:
                ok = start <= value <= end
        correct += ok
        per_def[expected["definition"]]["correct"] += ok
        if not ok and show_failures:
            failures.append(
                {"id": case["id"], "text": case["text"], "expected": expected["time"], "got": got}
            )
    result: dict[str, object] = {
        "cases": sum(by_type.values()),
        "by_type": dict(by_type),
        "time_point": {
            "attempted": attempted,
            "resolved": resolved,
            "correct": correct,
            "coverage": round(resolved / attempted, 3) if attempted else None,
            "accuracy": round(correct / attempted, 3) if attempted else None,
            "precision_when_resolved": round(correct / resolved, 3) if resolved else None,
            "by_definition": {k: dict(v) for k, v in per_def.items()},
        },
        "unsupported": dict(unsupported),
    }
    if show_failures:
        result["failures"] = failures
    return result


def score_extract(path: Path, show_failures: bool) -> dict[str, object]:
    reference = datetime(2021, 6, 14, 1, 6, 40, tzinfo=_SHANGHAI)
    gold_n = pred_n = exact = overlap_pred = overlap_gold = 0
    negatives = negatives_clean = 0
    failures: list[dict[str, object]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        gold = [tuple(s["offset"]) for s in case["expected_spans"]]
        pred = [(m.start, m.end) for m in find_times(case["text"], reference)]
        gold_n += len(gold)
        pred_n += len(pred)
        exact += len(set(gold) & set(pred))
        overlap_pred += sum(any(p[0] < g[1] and g[0] < p[1] for g in gold) for p in pred)
        overlap_gold += sum(any(p[0] < g[1] and g[0] < p[1] for p in pred) for g in gold)
        if not gold:
            negatives += 1
            negatives_clean += not pred
        if set(gold) != set(pred) and show_failures:
            failures.append({"id": case["id"], "text": case["text"], "gold": gold, "pred": pred})
    result: dict[str, object] = {
        "gold_spans": gold_n,
        "predicted_spans": pred_n,
        "exact": {
            "precision": round(exact / pred_n, 3) if pred_n else None,
            "recall": round(exact / gold_n, 3) if gold_n else None,
        },
        "overlap": {
            "precision": round(overlap_pred / pred_n, 3) if pred_n else None,
            "recall": round(overlap_gold / gold_n, 3) if gold_n else None,
        },
        "negative_cases_without_false_alarm": f"{negatives_clean}/{negatives}",
    }
    if show_failures:
        result["failures"] = failures
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=_DEFAULT_DATA)
    parser.add_argument("--failures", action="store_true", help="list the cases that fail")
    args = parser.parse_args(argv)
    result = {
        "parse": score_parse(args.data / "jionlp_parse_time_cases.jsonl", args.failures),
        "extract": score_extract(args.data / "jionlp_extract_time_cases.jsonl", args.failures),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
