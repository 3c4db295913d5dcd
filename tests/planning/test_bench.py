"""The plan benchmark still builds the script it claims and reports what it measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "plan_bench.py"


def test_the_benchmark_builds_a_script_of_the_asked_length_and_prints_a_verdict_and_json() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--pages", "6", "--repeat", "1", "--budget", "60"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    headline, figures = done.stdout.strip().splitlines()
    assert headline.startswith("plan benchmark: 6 pages") and "budget 60 s: OK" in headline
    result = json.loads(figures)
    assert result["pages"] == 6 and result["printed_lines"] >= 6 * 55
    assert result["shots"] > result["scenes"] > 0 and result["dialogue_lines"] > 0
    assert result["total_s"] <= 60 and result["kept_locked"] > 0
