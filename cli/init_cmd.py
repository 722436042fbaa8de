"""`csgw init`: write a starting `csgw.toml` (and a demo knowledge base)."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer

from csgw.commands import fail, out
from csgw.config.template import config_text
from csgw.plugins.demo import DEMO_KB


def init(
    directory: Path = typer.Option(Path("."), "--dir", "-d", help="where to write csgw.toml"),
    demo: bool = typer.Option(True, "--demo/--no-demo", help="also write a sample knowledge base"),
) -> None:
    """Write csgw.toml (and with --demo a sample knowledge base); never overwrites / 生成配置文件。"""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "csgw.toml"
    if config.exists():
        fail(f"{config} already exists; not overwriting it")
    kb_path = directory / "kb" / "demo.yaml"
    if demo:
        if kb_path.exists():
            fail(f"{kb_path} already exists; not overwriting it")
        kb_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEMO_KB, kb_path)
    config.write_text(config_text(demo=demo), encoding="utf-8")
    out.print(f"wrote {config}" + (f" and {kb_path}" if demo else ""))
    out.print("next: csgw serve  (或 make run) · 启动后打开 http://127.0.0.1:8080/widget/demo")
