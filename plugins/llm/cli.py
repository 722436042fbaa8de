"""`csgw llm`: the assistant's commands. `csgw kb gaps --json | csgw llm gaps --drafts drafts.yaml`
names and groups what the bot could not answer and drafts entries for review."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import typer
from rich.markup import escape

from csgw.commands import ConfigOption, dump_json, err, fail, out, settings_or_exit

from .config import SECTION, LlmConfig
from .prompts import LANGUAGES

llm_app = typer.Typer(help="The language-model assistant. 大模型助手。", no_args_is_help=True)


@llm_app.command("gaps")
def name_gaps(
    source: str = typer.Option("-", "--from", help="`csgw kb gaps --json` output: a file, or - for stdin"),
    drafts: Path | None = typer.Option(None, "--drafts", help="write draft KB entries (YAML) here for review"),
    language: str | None = typer.Option(None, "--language", help="of topic names and drafts (default [server] language)"),
    as_json: bool = typer.Option(False, "--json"), config: Path | None = ConfigOption,
) -> None:
    """Name and group the questions the bot could not answer, and draft an entry per topic."""
    # Here: every `csgw` command registers this one, only this one needs the model's HTTP client.
    from . import gaps
    from .client import LlmError
    from .model import LanguageModel

    settings = settings_or_exit(config)
    llm = settings.section(SECTION, LlmConfig)
    if not llm.configured:
        fail("no language model is configured: add [llm] base_url and model to the config")
    language = language or settings.server.language
    if language not in LANGUAGES:
        fail(f"--language is one of {', '.join(LANGUAGES)}")
    if drafts is not None and drafts.exists():
        fail(f"{drafts} exists: drafts never overwrite a file")
    if source == "-" and sys.stdin.isatty():
        fail("pipe `csgw kb gaps --json` into this command, or give --from FILE")
    try:
        found = gaps.read_gaps(sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8"))
    except (OSError, gaps.GapsInputError) as error:
        fail(str(error))
    if not found:
        err.print("no unanswered questions", highlight=False)
        if as_json:
            dump_json({"topics": [], "ungrouped": []})
        return
    model = LanguageModel(llm)
    try:
        topics, ungrouped = asyncio.run(gaps.name_topics(model, found, language))
    except LlmError as error:
        fail(f"the model failed ({error.kind}): {error}")
    if drafts is not None:
        drafts.write_text(gaps.drafts_yaml(topics, str(llm.model)), encoding="utf-8")
        err.print(f"{len(topics)} draft entries written to {escape(str(drafts))}: review them, then "
                  "`csgw kb import` the file", highlight=False)
    if as_json:
        dump_json({"topics": [topic.to_dict() for topic in topics],
                   "ungrouped": [{"text": gap.text, "count": gap.count} for gap in ungrouped]})
        return
    for topic in topics:
        out.print(f"{topic.count:>5}  [bold]{escape(topic.name)}[/bold]: "
                  f"{escape(' / '.join(gap.text for gap in topic.gaps))}", highlight=False)
    for gap in ungrouped:
        out.print(f"{gap.count:>5}  {escape(gap.text)}", highlight=False)
