"""Print every benchmark's figures: ``make bench`` (``python -m bench [name …]``)."""

from __future__ import annotations

import sys

from bench import (
    console_size,
    cost,
    export,
    export_day,
    foresight,
    import_time,
    intake,
    load,
    requests_per_petition,
    stats,
    sweep,
)

BENCHES = {
    "import": import_time.main,
    "requests": requests_per_petition.main,
    "sweep": sweep.main,
    "console": console_size.main,
    "export": export.main,
    "foresight": foresight.main,
    "stats": stats.main,  # issue 14: /v1/stats for a year city-wide from rollups, beside the full read
    "intake": intake.main,  # issue 17: creates/s beside GET /health and a bare transaction, same run
    "export-day": export_day.main,  # issue 17: one day's export at 10k and 100k petitions
    "load": load.main,  # issue 17: minutes of petitions with actions and sweeps; p50/p99, errors, lost
    "cost": cost.main,  # issue 17: per 1,000 petitions at list prices, beside a Step Functions clock
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    for name in names:
        print(f"== {name} ==", flush=True)
        BENCHES[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
