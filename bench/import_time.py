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


def main() -> None:
    baseline = measure("import boto3, chalice")
    app = measure("import app")
    print(f"import boto3, chalice   {baseline * 1000:7.1f} ms  (median of {RUNS} processes)")
    print(f"import app (app.py)     {app * 1000:7.1f} ms")
    print(f"ratio app / baseline    {app / baseline:7.2f}")


if __name__ == "__main__":
    main()
