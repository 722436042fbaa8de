"""`make bench`: run every benchmark in turn; each prints one JSON line."""

from __future__ import annotations

import runpy

BENCHES = ["bench_ingest", "bench_widget", "bench_matching", "bench_semantic", "bench_accuracy",
           "bench_learning", "bench_cluster", "bench_shared_limits", "bench_webhooks", "bench_startup", "bench_idle_queue"]

for name in BENCHES:
    runpy.run_module(f"bench.{name}", run_name="__main__")
