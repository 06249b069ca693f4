"""Print every benchmark's figures: ``make bench`` (``python -m bench [name …]``)."""

from __future__ import annotations

import sys

from bench import console_size, export, import_time, requests_per_petition, sweep

BENCHES = {
    "import": import_time.main,
    "requests": requests_per_petition.main,
    "sweep": sweep.main,
    "console": console_size.main,
    "export": export.main,
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    for name in names:
        print(f"== {name} ==", flush=True)
        BENCHES[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
