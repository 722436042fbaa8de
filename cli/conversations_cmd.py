"""`csgw conversations`: list, show, export every message (JSONL or CSV, streamed) and import it."""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime, tzinfo
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table
from tortoise.exceptions import IntegrityError, OperationalError

from csgw.cli.history_import import Importer
from csgw.cli.history_io import (
    EXPORT_FIELDS,
    FULL_FIELDS,
    ExportFilter,
    export_count,
    export_records,
    spreadsheet_rows,
)
from csgw.cli.history_records import RecordError, check_file
from csgw.commands import ConfigOption, dump_json, err, fail, out, settings_or_exit, with_store
from csgw.gateway import reports
from csgw.gateway.clock import shop_time, shop_zone
from csgw.gateway.models import LISTED_STATES, Agent, Conversation, Customer, Message
from csgw.gateway.storage.db import is_sqlite
from csgw.gateway.views import conversation_view, message_view

app = typer.Typer(help="Read, export and import conversation history / 会话记录。", no_args_is_help=True)
SHOWN_PROBLEMS = 20  # an import file's problems listed; the rest are counted

def checked_state(value: str | None) -> str | None:
    if value is not None and value not in LISTED_STATES:
        raise typer.BadParameter(f"one of {', '.join(LISTED_STATES)} (got {value!r})")
    return value


@app.command("list")
def list_conversations(
    state: str | None = typer.Option(None, "--state", callback=checked_state,
                                     help=f"only these: {', '.join(LISTED_STATES)} (open: not closed)"),
    limit: int = typer.Option(50, "--limit", min=1), as_json: bool = typer.Option(False, "--json"),
    config: Path | None = ConfigOption,
) -> None:
    """Recent conversations, newest activity first / 最近的会话."""
    settings = settings_or_exit(config)

    async def work() -> tuple[list[dict], dict[int, str], dict[int, str]]:
        query = Conversation.all()
        if state == "open":
            query = query.filter(state__not="closed")
        elif state:
            query = query.filter(state=state)
        conversations = await query.order_by("-last_message_at", "-id").limit(limit)
        customers = {c.id: c.name for c in await Customer.filter(id__in={c.customer_id for c in conversations})}
        agents = {a.id: a.display_name or a.name
                  for a in await Agent.filter(id__in={c.agent_id for c in conversations if c.agent_id})}
        return [conversation_view(c, customer_name=customers.get(c.customer_id)) for c in conversations], \
            customers, agents

    rows, customers, agents = with_store(settings, work)
    if as_json:
        dump_json(rows)
        return
    zone = shop_zone(settings.server.timezone)
    grid = Table("id", "state", "channel", "customer", "agent", "priority", "last activity")
    for column in (grid.columns[0], grid.columns[1], grid.columns[-1]):
        column.no_wrap = True
    for r in rows:
        last = datetime.fromisoformat(r["last_message_at"]) if r["last_message_at"] else None
        grid.add_row(str(r["id"]), r["state"], f"{r['channel']}/{r['account']}",
                     escape(customers.get(r["customer_id"]) or f"#{r['customer_id']}"),
                     escape(agents.get(r["agent_id"], f"#{r['agent_id']}")) if r["agent_id"] else "",
                     str(r["priority"]), shop_time(last, zone))
    out.print(grid)


@app.command("show")
def show(conversation_id: int, as_json: bool = typer.Option(False, "--json"), config: Path | None = ConfigOption) -> None:
    """One conversation with its messages."""
    settings = settings_or_exit(config)

    async def work() -> dict | None:
        conversation = await Conversation.get_or_none(id=conversation_id)
        if conversation is None:
            return None
        customer = await Customer.get_or_none(id=conversation.customer_id)
        view = conversation_view(conversation, customer_name=customer.name if customer else None)
        view["messages"] = [message_view(m) for m in await Message.filter(conversation_id=conversation_id).order_by("id")]
        return view

    view = with_store(settings, work)
    if view is None:
        fail(f"no conversation {conversation_id}")
    if as_json:
        dump_json(view)
        return
    zone = shop_zone(settings.server.timezone)
    customer = escape(view.get("customer_name") or f"#{view['customer_id']}")
    out.print(f"#{view['id']} {view['channel']}/{view['account']} state={view['state']} customer={customer}",
              highlight=False)
    if view["satisfaction"] is not None:
        comment = view["satisfaction_comment"]
        out.print(f"rated / 评价 {view['satisfaction']}/5" + (f": {escape(comment)}" if comment else ""), highlight=False)
    for m in view["messages"]:
        stamp = shop_time(datetime.fromisoformat(m["created_at"]), zone, seconds=True)
        out.print(f"[dim]{stamp}[/dim] {m['sender']:>8}: {escape(m['text'] or '')}", highlight=False)


def parse_time(value: str | None, name: str, zone: tzinfo) -> datetime | None:
    if not value:
        return None
    try:
        return reports.parse_time(value, name, zone)
    except reports.RangeError as error:
        fail(str(error))


async def agent_id_for(value: str) -> int | None:
    """`--agent` takes an agent's name or id."""
    if value.isdigit():
        return int(value)
    agent = await Agent.get_or_none(name=value)
    return agent.id if agent else None


@app.command("export")
def export(
    fmt: str = typer.Option("jsonl", "--format", help="jsonl or csv"),
    since: str | None = typer.Option(None, "--since", help="only messages at or after this ISO time"),
    until: str | None = typer.Option(None, "--until", help="only messages before this ISO time"),
    channel: str | None = typer.Option(None, "--channel", help="a channel plugin, or plugin/account"),
    agent: str | None = typer.Option(None, "--agent", help="conversations handled by this agent (name or id)"),
    full: bool = typer.Option(False, "--full", help="add user_id, agent_id, kind, platform_ts (for a faithful import)"),
    output: Path | None = typer.Option(None, "--output", "-o", help="file to write (default stdout)"),
    bom: bool = typer.Option(True, "--bom/--no-bom",
                             help="CSV: start with a UTF-8 BOM, so Excel reads Chinese right"),
    config: Path | None = ConfigOption,
) -> None:
    """Export messages, one record each, streamed in id order so memory stays flat / 导出聊天记录.

    CSV is written for spreadsheets: cells that would run as formulas start with an apostrophe,
    NUL bytes are dropped, and a UTF-8 BOM comes first (`--no-bom` to leave it out)."""
    if fmt not in ("jsonl", "csv"):
        fail("--format is jsonl or csv")
    settings = settings_or_exit(config)
    zone = shop_zone(settings.server.timezone)
    start, end = parse_time(since, "--since", zone), parse_time(until, "--until", zone)
    stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout

    async def work() -> int:
        agent_id = await agent_id_for(agent) if agent else None
        if agent and agent_id is None:
            return -1
        wanted = ExportFilter(start, end, channel, agent_id)
        fields = FULL_FIELDS if full else EXPORT_FIELDS
        writer = csv.DictWriter(stream, fieldnames=fields) if fmt == "csv" else None
        if writer:
            if bom:
                stream.write("\ufeff")
            writer.writeheader()
        written = 0
        with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
            task = progress.add_task("exporting / 导出中", total=await export_count(wanted))
            async for page in export_records(wanted, fields):
                if writer:
                    writer.writerows(spreadsheet_rows(page))
                else:
                    stream.writelines(json.dumps(item, ensure_ascii=False) + "\n" for item in page)
                written += len(page)
                progress.update(task, advance=len(page))
        return written

    try:
        written = with_store(settings, work)
    finally:
        if output:
            stream.close()
    if written < 0:
        fail(f"no agent named {agent!r}")
    err.print(f"exported {written} messages / 已导出 {written} 条消息", highlight=False)


@app.command("import")
def import_(
    path: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="a JSONL file from `conversations export` (`--full` keeps user ids and agents)"),
    config: Path | None = ConfigOption,
) -> None:
    """Import an exported JSONL file (migrations) / 导入聊天记录.

    The whole file is checked first and nothing is written while any line is wrong; then it is
    imported a page per transaction, beside a running gateway. Running it again adds nothing
    twice, and finishes an import that was stopped midway."""
    settings = settings_or_exit(config)
    allow_nul = is_sqlite(settings.database.url)  # PostgreSQL text cannot hold NUL
    size = path.stat().st_size
    with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("checking / 检查中", total=size)
        checked = check_file(path, allow_nul=allow_nul, progress=lambda done: progress.update(task, completed=done))
    if checked.problem_count:
        for number, problem in checked.problems[:SHOWN_PROBLEMS]:
            err.print(f"[red]error:[/red] {escape(str(path))} line {number}: {escape(problem)}", highlight=False)
        shown = f" (the first {SHOWN_PROBLEMS} shown)" if checked.problem_count > SHOWN_PROBLEMS else ""
        fail(f"{escape(str(path))}: {checked.problem_count} bad lines{shown}; nothing was imported "
             f"/ 文件有误，未导入任何记录")
    importer = Importer(settings.database.url)

    async def work() -> None:
        with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
            task = progress.add_task(f"importing {checked.records} records / 导入中", total=size)
            await importer.run(path, allow_nul=allow_nul,
                               progress=lambda done: progress.update(task, completed=done))

    try:
        with_store(settings, work)
    except (RecordError, OperationalError, IntegrityError) as error:
        fail(f"import stopped after {importer.imported} new messages: {escape(str(error))}; "
             f"run the same command again to finish it / 导入中断，重新运行同一命令即可继续", code=1)
    err.print(f"imported {importer.imported} messages, skipped {importer.skipped} already present "
              f"/ 已导入 {importer.imported} 条，跳过 {importer.skipped} 条已存在的消息", highlight=False)
