"""Pure: the annual assessment (年度考核) score of a unit, by the formula in ``data/assessment.json``.

score = 100 × Σ(weight × value) ÷ Σ(weight) over the weighted rates that have a denominator,
minus the penalties (violations, urges and accountability actions of the year, each times its
points; together at most ``max_penalty``), floored at 0 and rounded to 0.1. No rate with a
denominator: no score (null) — a unit that handled nothing is not ranked. A district may override
any weight or penalty (``overrides.<district>``). Every term is returned as a reason, so the
league table can say why each unit stands where it does.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "assessment.json"

RATE_LABELS = {
    "on_time_dispatch_rate": "按时分拨率",
    "on_time_accept_rate": "按时签收率（响应率）",
    "on_time_resolve_rate": "按时办结率",
    "resolution_rate": "解决率",
    "satisfaction_rate": "满意率",
    "completion_rate": "办结率",
    "return_rate": "退单率",
    "reopen_rate": "重办率",
    "on_spot_rate": "即办率",
    "grid_resolution_rate": "网格解决率",
}
VIOLATION_LABELS = {
    "slow_dispatch": "分拨超时",
    "refused_order": "拒不接单",
    "slow_handling": "办理超时（慢办）",
    "returned": "退单（推办）",
    "reopened": "群众不满意重办",
    "sloppy_handling": "审核退回（乱办）",
}
URGE_LABELS = {"reminder": "催办单", "supervision": "督办单"}
ACTION_LABELS = {"remind": "提醒", "interview": "约谈", "refer_discipline": "移送纪委"}


@cache
def _data() -> dict[str, Any]:
    return json.loads(DATA.read_text(encoding="utf-8"))


def weights(district: str, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The formula's weights and penalties for a district (its overrides merged in)."""
    d = copy.deepcopy(dict(data or _data()))
    merged = {"weights": d["weights"], "penalties": d["penalties"], "max_penalty": d["max_penalty"]}
    override = (d.get("overrides") or {}).get(district) or {}
    merged["weights"] = {**merged["weights"], **override.get("weights", {})}
    for group, values in (override.get("penalties") or {}).items():
        merged["penalties"][group] = {**merged["penalties"].get(group, {}), **values}
    if "max_penalty" in override:
        merged["max_penalty"] = override["max_penalty"]
    return merged


def formula_text() -> str:
    return str(_data()["_doc"])


def score(
    figures: Mapping[str, Any],
    violations: Mapping[str, int],
    urges: Mapping[str, int],
    actions: Mapping[str, int],
    w: Mapping[str, Any],
) -> tuple[float | None, list[dict[str, Any]]]:
    """(score, reasons): each reason names its term, its value and the points it gives or takes."""
    reasons: list[dict[str, Any]] = []
    weighted = 0.0
    total_weight = 0.0
    for name, weight in w["weights"].items():
        r = figures.get(name)
        if not r or r.get("value") is None or not weight:
            continue
        weighted += weight * r["value"]
        total_weight += weight
        reasons.append(
            {
                "term": name,
                "label": RATE_LABELS.get(name, name),
                "value": r["value"],
                "numerator": r["numerator"],
                "denominator": r["denominator"],
                "weight": weight,
            }
        )
    if not total_weight:
        return None, reasons
    base = 100 * weighted / total_weight
    for reason in reasons:
        reason["points"] = round(100 * reason["weight"] * reason["value"] / total_weight, 2)
    penalty = 0.0
    for group, counts, labels in (
        ("violations", violations, VIOLATION_LABELS),
        ("urges", urges, URGE_LABELS),
        ("actions", actions, ACTION_LABELS),
    ):
        for kind, n in sorted(counts.items()):
            points = float(w["penalties"].get(group, {}).get(kind, 0)) * n
            if not n:
                continue
            penalty += points
            reasons.append(
                {
                    "term": f"{group}.{kind}",
                    "label": labels.get(kind, kind),
                    "count": n,
                    "points": -round(points, 2),
                }
            )
    capped = min(penalty, float(w["max_penalty"]))
    if capped < penalty:
        reasons.append({"term": "max_penalty", "label": "扣分封顶", "points": round(penalty - capped, 2)})
    return round(max(0.0, base - capped), 1), reasons
