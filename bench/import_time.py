"""Cold-start proxy: importing app.py beside a bare ``import boto3, chalice``, measured in the same run.

Each figure is the median of N fresh interpreter processes (a Lambda cold start
imports everything anew). The ratio is what to watch; seconds vary by machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7

SNIPPET = "import time; t=time.perf_counter(); {stmt}; print(time.perf_counter()-t)"


def measure(stmt: str) -> float:
    samples = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", SNIPPET.format(stmt=stmt)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


# What each function loads before its first AWS call: app.py, then the runtime's parts it uses
# (built, not run: constructors make no request). The runtime builds each part on first use.
WARM = "import app; from chalicelib.runtime import Runtime; r = Runtime.build(); "
FUNCTIONS = {
    "API: a petition action": WARM + "r.petitions; r.intake",
    "sla_sweep": WARM + "r.sweep",
    "audit_daily_export": WARM + "r.exporter(); import duckdb",
}


def main() -> None:
    baseline = measure("import boto3, chalice")
    app = measure("import app")
    print(f"import boto3, chalice          {baseline * 1000:7.1f} ms  (median of {RUNS} processes)")
    print(f"import app (app.py)            {app * 1000:7.1f} ms   ratio {app / baseline:5.2f}")
    print("…and what a function loads before its first AWS call (imports, no requests):")
    for name, stmt in FUNCTIONS.items():
        took = measure(stmt)
        print(f"  {name:28} {took * 1000:7.1f} ms   ratio {took / baseline:5.2f}")


if __name__ == "__main__":
    main()
