"""`make bench`: run every benchmark in turn; each prints one JSON line."""

from __future__ import annotations

import runpy
from pathlib import Path

BENCHES = ["bench_ingest", "bench_widget", "bench_matching", "bench_accuracy"]

for name in BENCHES:
    runpy.run_path(str(Path(__file__).parent / f"{name}.py"), run_name="__main__")
