"""`csgw kb`: import, export and test the knowledge base (YAML or CSV)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.markup import escape
from rich.progress import Progress

from csgw.commands import (
    ConfigOption,
    collector_paused,
    dump_json,
    err,
    fail,
    settings_or_exit,
    with_store,
)

from . import gaps, kb_store, learning
from .embeddings import VectorCache
from .engine import ReplyEngine
from .kb import KBError, KnowledgeBase, load_kb, render_yaml, save_kb
from .models import APP
from .plugin import VECTORS_FILE, default_embedder, engine_settings_for
from .scopes import ScopeError, checked_scope, language_of

if TYPE_CHECKING:
    from csgw.config.schema import Settings

T = TypeVar("T")

kb_app = typer.Typer(help="Knowledge base: import, export, test. 知识库：导入、导出、测试。", no_args_is_help=True)


def with_kb(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """`with_store` with the knowledge tables open as well."""
    return with_store(settings, work, models=APP)


@kb_app.command("import")
def import_kb(
    file: Path, replace: bool = typer.Option(False, "--replace", help="remove entries not in FILE"),
    config: Path | None = ConfigOption,
) -> None:
    """Import FILE (.yaml/.yml or .csv) into the knowledge base; a running gateway picks it up."""
    settings = settings_or_exit(config)
    try:
        kb = load_kb(file)
    except KBError as error:
        for problem in error.problems:
            err.print(f"[red]kb error:[/red] {file}: {problem}", highlight=False)
        raise typer.Exit(2) from None
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror}")

    async def work() -> tuple[int, int]:
        with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
            task = progress.add_task("importing", total=len(kb.entries))
            return await kb_store.import_knowledge_base(kb, replace=replace,
                                                        progress=lambda: progress.advance(task))

    created, updated = with_kb(settings, work)
    err.print(f"imported {len(kb.entries)} entries ({created} new, {updated} updated)", highlight=False)
    _index_meaning(settings, kb)


def _index_meaning(settings: Settings, kb: KnowledgeBase) -> ReplyEngine:
    """The engine over `kb` with its entries' vectors computed now (stored for the gateway);
    on words alone, with a warning, when the model or its store cannot be used."""
    engine_settings = engine_settings_for(settings)
    embedder = default_embedder(engine_settings.model_copy(update={"model_threads": None}))
    if embedder is None:
        return ReplyEngine.from_kb(kb, engine_settings)
    path = Path(settings.server.data_dir) / VECTORS_FILE
    try:
        cache: VectorCache | None = VectorCache(path)
    except (sqlite3.Error, OSError) as error:
        err.print(f"[yellow]vector store unavailable ({path}: {error}); vectors are not stored[/yellow]",
                  highlight=False)
        cache = None
    try:
        with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
            task = progress.add_task("indexing meaning", total=None)
            engine = ReplyEngine.from_kb(
                kb, engine_settings, embedder, cache,
                lambda done, total: progress.update(task, completed=done, total=total))
    except Exception as error:  # a model that cannot run: the words still work
        err.print(f"[yellow]the meaning model failed ({error}); matching on words only[/yellow]",
                  highlight=False)
        return ReplyEngine.from_kb(kb, engine_settings)
    finally:
        if cache is not None:
            cache.close()
    if engine.embedded:
        err.print(f"indexed the meaning of {engine.embedded} new texts", highlight=False)
    return engine


@kb_app.command("export")
def export_kb(file: Path | None = typer.Argument(None, help=".yaml or .csv; stdout (YAML) if omitted"),
              config: Path | None = ConfigOption) -> None:
    """Export the knowledge base."""
    settings = settings_or_exit(config)
    kb = with_kb(settings, kb_store.load_knowledge_base)
    if file is None:
        typer.echo(render_yaml(kb), nl=False)
        return
    save_kb(kb, file)
    err.print(f"exported {len(kb.entries)} entries to {file}", highlight=False)


async def _stored_kb(settings: Settings) -> KnowledgeBase:
    """The stored knowledge base (or the configured file while the store is empty)."""
    kb = await kb_store.load_knowledge_base()
    if not kb.entries and settings.reply.knowledge_base:
        kb = load_kb(Path(settings.base_dir) / settings.reply.knowledge_base)
    return kb


@kb_app.command("test")
def test_kb(
    text: str | None = typer.Argument(None, help="a customer's message"),
    file: Path | None = typer.Option(None, "--file", "-f", help="one message per line"),
    channel: str | None = typer.Option(None, "--channel", help="ask as a customer of this plugin or "
                                       "plugin/account (webchat/shoes); default: from anywhere"),
    as_json: bool = typer.Option(False, "--json"),
    config: Path | None = ConfigOption,
) -> None:
    """Explain which rule or entry answers TEXT (or each line of --file)."""
    if (text is None) == (file is None):
        fail("give TEXT or --file")
    try:
        channel = checked_scope(channel) if channel is not None else None
    except ScopeError as error:
        fail(f"--channel: {escape(str(error))}")  # the value as typed: no markup
    settings = settings_or_exit(config)
    language = language_of(channel, settings) if channel is not None else None

    with collector_paused():
        matcher = _index_meaning(settings, with_kb(settings, lambda: _stored_kb(settings)))
    if text is not None:
        lines = [text]
    else:
        assert file is not None  # exactly one of TEXT and --file, checked above
        lines = [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    for line in lines:
        # as the gateway does: the model runs (and loads) only for a line retrieval decides
        needed = matcher.needs_meaning(line, channel=channel, language=language)
        result = matcher.match(line, channel=channel, language=language,
                               vector=matcher.vector(line) if needed else None).to_dict()
        if as_json:
            typer.echo(json.dumps({"input": line, **result}, ensure_ascii=False))
            continue
        verdict = f"answered by {result['entry_id']} ({result['source']}, score {result['score']})" \
            if result["answered"] else f"not answered ({result['source']})"
        typer.echo(f"{line}\n  -> {verdict}\n  {result.get('text') or ''}")
        if result["decision"]:
            typer.echo(f"  decision: {result['decision']} ({'meaning and words' if result['semantic'] else 'words only'})")
        for candidate in result["candidates"]:
            signals = ", ".join(f"{name} {value:.2f}" for name, value in candidate.get("signals", {}).items())
            typer.echo(f"    {candidate['entry_id']} p={candidate['score']:.2f} {candidate['text']}  [{signals}]")


@kb_app.command("gaps")
def gaps_kb(days: int = typer.Option(30, "--days", min=1, help="look this many days back"),
            limit: int = typer.Option(20, "--limit", min=1),
            as_json: bool = typer.Option(False, "--json"), config: Path | None = ConfigOption) -> None:
    """Questions the bot could not answer, clustered, most frequent first: what to add next."""
    settings = settings_or_exit(config)

    with collector_paused():
        engine = _index_meaning(settings, with_kb(settings, lambda: _stored_kb(settings)))
    questions = with_kb(settings, lambda: gaps.unanswered_questions(days))
    found = gaps.cluster(questions, engine)[:limit]
    if as_json:  # one document, `[]` when there is nothing to add
        dump_json([gap.to_dict() for gap in found])
        return
    for gap in found:
        others = [text for text in gap.examples if text != gap.text]
        typer.echo(f"{gap.count:>5}  {gap.text}" + (f"   ({' / '.join(others)})" if others else ""))
    if not found:
        err.print("no unanswered questions", highlight=False)


@kb_app.command("review")
def review_kb(
    accept: list[int] = typer.Option([], "--accept", "-a", help="accept proposal ID (repeatable)"),
    reject: list[int] = typer.Option([], "--reject", "-r", help="reject proposal ID (repeatable)"),
    as_json: bool = typer.Option(False, "--json"), config: Path | None = ConfigOption,
) -> None:
    """List paraphrases proposed from agents' answers, or accept/reject them by id."""
    settings = settings_or_exit(config)

    async def work() -> list[dict]:
        decided = []
        for ids, verdict in ((accept, True), (reject, False)):
            for proposal_id in ids:
                decided.append(learning.proposal_view(await learning.decide(proposal_id, verdict)))
        if accept or reject:
            return decided
        return [learning.proposal_view(p) for p in await learning.proposals("pending")]

    try:
        items = with_kb(settings, work)
    except learning.LearningError as error:
        fail(str(error))
    for item in items:
        if as_json:
            typer.echo(json.dumps(item, ensure_ascii=False))
        elif accept or reject:
            typer.echo(f"{item['id']}  {item['state']}: {item['question']} -> {item['entry_id']}")
        else:
            typer.echo(f"{item['id']:>5}  {item['question']}  ->  {item['entry_id']}")
    if not items and not as_json:
        err.print("no pending proposals", highlight=False)
