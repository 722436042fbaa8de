"""Demo content that `csgw init --demo` writes: a small shop's knowledge base."""

from __future__ import annotations

from pathlib import Path

DEMO_KB = Path(__file__).parent / "demo_kb.yaml"
