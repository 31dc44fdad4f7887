"""`unveil --help` wall time (target ≤ 0.3 s), beside the bare interpreter and the CLI
library's own import, all measured in this run (median of --runs)."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    unveil = str(Path(sys.executable).with_name("unveil"))
    help_s = wall([unveil, "--help"], args.runs)
    verify_help_s = wall([unveil, "verify", "--help"], args.runs)
    python_s = wall([sys.executable, "-c", "pass"], args.runs)
    typer_s = wall([sys.executable, "-c", "import typer"], args.runs)
    print(json.dumps({
        "bench": "cli_startup", "unveil_help_seconds": round(help_s, 3), "unveil_verify_help_seconds": round(verify_help_s, 3),
        "python_seconds": round(python_s, 3), "import_typer_seconds": round(typer_s, 3),
        "ratio_to_bare_python": round(help_s / python_s, 2), "target_seconds": 0.3,
    }))


if __name__ == "__main__":
    main()
