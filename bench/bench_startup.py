"""Start-up: how long `csgw serve` takes to answer `/readyz` with a 1,000-entry knowledge base,
and how long one `csgw kb test TEXT` takes, as a shop's operator meets them.

Each round is a fresh process; `first` is the very first start on an empty data directory (the
store is created, the knowledge base imported, the word tables and the retrieval index built and
kept there), `warm` the starts after it. Words only (`model = "off"`): indexing the meaning
model's vectors happens in the background after start and is measured by bench_semantic.
`kb_test_demo_s` is `csgw kb test` on the site `csgw init` writes (the 31-entry demo knowledge
base, the e5 model on as shipped; its vectors stored by one run before the timed ones).
Prints one JSON line of medians. The commands run as installed by pip, which compiles their
bytecode: with `PYTHONDONTWRITEBYTECODE` set (as in some sandboxes and CI images) every run would
compile csgw's ~100 modules again (~0.1 s), so it is left out of the commands' environment.

    python -m bench.bench_startup [--entries 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.bench_matching import make_entries, make_vocabulary
from csgw.plugins.reply.kb import KnowledgeBase, save_kb

CSGW = str(Path(sys.executable).with_name("csgw"))
AS_INSTALLED = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_site(folder: Path, entries: int, port: int) -> Path:
    rng = random.Random(7)
    vocab = make_vocabulary(rng, 3000)
    kb = KnowledgeBase(entries=make_entries(rng, vocab, vocab[:500], entries, entries * 3))
    save_kb(kb, folder / "kb.yaml")
    config = folder / "csgw.toml"
    config.write_text(f"""
[server]
port = {port}
data_dir = "./data"

[reply]
knowledge_base = "kb.yaml"

[reply.engine]
model = "off"

[logging]
level = "warning"

[[channels]]
plugin = "webchat"
account = "default"
""", encoding="utf-8")
    return config


def time_to_ready(config: Path, port: int, timeout: float = 60) -> float:
    started = time.perf_counter()
    server = subprocess.Popen([CSGW, "serve", "--config", str(config)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=AS_INSTALLED)
    try:
        while time.perf_counter() - started < timeout:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if server.poll() is not None:
                raise RuntimeError(f"csgw serve exited with {server.returncode}")
            time.sleep(0.01)  # polling a process from outside: nothing to wait on but the port
        raise RuntimeError("not ready in time")
    finally:
        server.terminate()
        server.wait(timeout=30)


def time_kb_test(config: Path, text: str) -> float:
    started = time.perf_counter()
    subprocess.run([CSGW, "kb", "test", text, "--json", "--config", str(config)], check=True,
                   capture_output=True, env=AS_INSTALLED)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 5)))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        config = write_site(Path(folder), args.entries, port)
        first = time_to_ready(config, port)
        warm = [time_to_ready(config, port) for _ in range(args.rounds)]
        time_kb_test(config, "请问多久能发货")  # its modules' bytecode written, as an install has it
        kb_test = [time_kb_test(config, "请问多久能发货") for _ in range(args.rounds)]
        demo = Path(folder) / "demo"
        subprocess.run([CSGW, "init", "--dir", str(demo)], check=True, capture_output=True)
        time_kb_test(demo / "csgw.toml", "请问多久能发货")
        kb_test_demo = [time_kb_test(demo / "csgw.toml", "请问多久能发货") for _ in range(args.rounds)]
    print(json.dumps({"bench": "startup", "entries": args.entries, "rounds": args.rounds,
                      "serve_ready_first_s": round(first, 2),
                      "serve_ready_s": round(statistics.median(warm), 2),
                      "serve_ready_max_s": round(max(warm), 2),
                      "kb_test_s": round(statistics.median(kb_test), 2),
                      "kb_test_max_s": round(max(kb_test), 2),
                      "kb_test_demo_s": round(statistics.median(kb_test_demo), 2),
                      "load_average": round(os.getloadavg()[0], 1)}))


if __name__ == "__main__":
    main()
