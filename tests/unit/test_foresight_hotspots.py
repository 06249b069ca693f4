"""未诉先办: the pure detector over {(day, grid, category): count} — planted bursts are found,
quiet weeks raise none, and the thresholds are the policy's (≥ 5 and ≥ 3× the baseline)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from chalicelib.foresight.hotspots import Thresholds, detect, windows

TODAY = date(2027, 3, 31)
T = Thresholds(window_days=7, baseline_weeks=8, min_count=5, ratio=3.0)


def quiet_counts(seed: int, grids: int = 40, categories: int = 6, days: int = 63) -> dict:
    """Background noise: each grid × category gets 0–1 petitions a day at a low rate."""
    rng = random.Random(seed)
    counts: dict = {}
    for g in range(grids):
        for c in range(categories):
            rate = rng.uniform(0.0, 0.09)  # at most ~0.6 a week: never 5 in a week by chance... rarely
            for d in range(days):
                if rng.random() < rate:
                    key = ((TODAY - timedelta(days=d)).isoformat(), f"g{g:02d}", f"c{c}")
                    counts[key] = counts.get(key, 0) + 1
    return counts


def plant(counts: dict, grid: str, category: str, n: int, days_ago: int = 0) -> None:
    for i in range(n):
        key = ((TODAY - timedelta(days=days_ago + i % 3)).isoformat(), grid, category)
        counts[key] = counts.get(key, 0) + 1


def test_quiet_weeks_raise_no_hotspot():
    for seed in range(20):
        assert detect(quiet_counts(seed), TODAY, T) == [], seed


def test_planted_bursts_are_found_and_nothing_else():
    for seed in range(20):
        counts = quiet_counts(seed)
        planted = {(f"g{seed % 40:02d}", "c1"), (f"g{(seed + 7) % 40:02d}", "c4")}
        for grid, category in planted:
            plant(counts, grid, category, 8)
        found = {(h["grid"], h["category"]) for h in detect(counts, TODAY, T)}
        assert found == planted, seed


def test_the_thresholds_are_five_and_three_times_the_weekly_baseline():
    first, window_start, _ = windows(TODAY, T)
    assert window_start == TODAY - timedelta(days=6) and first == window_start - timedelta(weeks=8)
    # 4 in the window: under the minimum, whatever the baseline
    counts: dict = {}
    plant(counts, "g", "c", 4)
    assert detect(counts, TODAY, T) == []
    # 5 in the window, no baseline: hot
    plant(counts, "g", "c", 1)
    [hot] = detect(counts, TODAY, T)
    assert hot == {"grid": "g", "category": "c", "count": 5, "baseline_weekly": 0.0}
    # a baseline of 2 a week for 8 weeks: 5 < 3 × 2, not hot; 6 is
    for week in range(8):
        day = (window_start - timedelta(days=1 + 7 * week)).isoformat()
        counts[(day, "g", "c")] = 2
    assert detect(counts, TODAY, T) == []
    plant(counts, "g", "c", 1)
    assert detect(counts, TODAY, T)[0]["count"] == 6
    # what is older than the baseline, or in the future, counts for nothing
    old = {
        ((first - timedelta(days=1)).isoformat(), "h", "c"): 50,
        ((TODAY + timedelta(days=1)).isoformat(), "h", "c"): 50,
    }
    assert detect(old, TODAY, T) == []


def test_the_policy_holds_the_contracts_thresholds():
    assert Thresholds.from_policy() == Thresholds(window_days=7, baseline_weeks=8, min_count=5, ratio=3.0)


def test_near_duplicate_texts_resemble_and_other_complaints_do_not():
    from chalicelib.foresight.hotspots import resemblance, signature

    first = signature("阳光家园小区门口路灯坏了一个月，晚上出行很不方便（编号3-ab12）")
    again = signature("阳光家园小区门口路灯坏了一个月，晚上出行很不方便！！")
    other = signature("五龙社区垃圾桶满了好几天没人清理，气味难闻")
    t = Thresholds.from_policy()
    assert resemblance(first, again) >= t.near_duplicate
    assert resemblance(first, other) < 0.2
    assert resemblance(signature(""), signature("")) == 1.0 and len(first) == 64
