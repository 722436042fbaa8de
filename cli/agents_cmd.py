"""`csgw agents`: add agents, list them, set status and capacity, issue API tokens (shown once,
stored hashed) and one-time login links to the console."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from tortoise.transactions import in_transaction

from csgw.cli.addresses import base_url
from csgw.commands import ConfigOption, dump_json, err, fail, out, settings_or_exit, with_store
from csgw.gateway.clock import shop_time, shop_zone
from csgw.gateway.models import AGENT_ROLES, AGENT_STATUSES, Agent
from csgw.gateway.sessions import (
    LINK_MINUTES,
    MAX_LINK_MINUTES,
    LoginLink,
    console_link,
    end_sessions_of,
    hash_token,
    new_login_link,
    new_token,
    store_login_link,
)
from csgw.gateway.storage.plans import run_plan_async

app = typer.Typer(help="Agents and their API tokens / 客服与令牌。", no_args_is_help=True)


@app.command("add")
def add(
    name: str,
    skills: str = typer.Option("", "--skills", help="comma-separated skills/groups, e.g. 鞋,售后"),
    max_concurrent: int = typer.Option(5, "--max", min=1, help="most conversations at once"),
    display_name: str = typer.Option("", "--display-name", help="name customers see"),
    role: str | None = typer.Option(None, "--role", help="agent or supervisor (default: agent; the "
                                    "desk's first agent is a supervisor)"),
    config: Path | None = ConfigOption,
) -> None:
    """Add an agent and print its API token once."""
    if role is not None and role not in AGENT_ROLES:
        fail(f"--role is one of {', '.join(AGENT_ROLES)}")
    settings = settings_or_exit(config)

    async def work() -> tuple[str, str] | None:
        if await Agent.get_or_none(name=name):
            return None
        token = new_token()
        # a desk needs someone who may do everything: without a supervisor yet, this is one
        chosen = role or ("agent" if await Agent.filter(role="supervisor").exists() else "supervisor")
        await Agent.create(name=name, display_name=display_name or name, max_concurrent=max_concurrent,
                           skills=[s.strip() for s in skills.split(",") if s.strip()], token_hash=hash_token(token),
                           role=chosen)
        return token, chosen

    made = with_store(settings, work)
    if made is None:
        fail(f"agent {name!r} already exists (use `csgw agents token {name}` for a new token)")
    token, chosen = made
    out.print(f"agent {name} added as {chosen}. API token (shown once, keep it safe):")
    typer.echo(token)


def update_agent(config: Path | None, name: str, **values: Any) -> None:
    """Change fields of the agent called `name`; a one-line error if there is none."""
    settings = settings_or_exit(config)
    if not with_store(settings, lambda: Agent.filter(name=name).update(**values)):
        fail(f"no agent named {name!r}")


@app.command("role")
def set_role(name: str, role: str = typer.Argument(..., help="agent or supervisor"),
             config: Path | None = ConfigOption) -> None:
    """Make an agent a supervisor, or a supervisor an agent."""
    if role not in AGENT_ROLES:
        fail(f"the role is one of {', '.join(AGENT_ROLES)}")
    update_agent(config, name, role=role)
    out.print(f"{name} is now {role}")


@app.command("token")
def token(name: str, config: Path | None = ConfigOption) -> None:
    """Issue a new API token for an agent; the old one stops working and every console session of
    the agent ends (to sign someone in, use `csgw agents login-link`)."""
    settings = settings_or_exit(config)

    async def work() -> str | None:
        agent = await Agent.get_or_none(name=name)
        if agent is None:
            return None
        value = new_token()
        async with in_transaction() as connection:
            await Agent.filter(id=agent.id).using_db(connection).update(token_hash=hash_token(value))
            await run_plan_async(connection, end_sessions_of(agent.id))
        return value

    value = with_store(settings, work)
    if value is None:
        fail(f"no agent named {name!r}")
    typer.echo(value)


@app.command("login-link")
def login_link(
    name: str,
    minutes: int = typer.Option(LINK_MINUTES, "--minutes", min=1, max=MAX_LINK_MINUTES,
                                help="how long the link works (it works once)"),
    base: str | None = typer.Option(None, "--base-url", metavar="URL",
                                    help="where agents open the gateway, e.g. https://kf.example.com "
                                         "(default: [server] host and port)"),
    config: Path | None = ConfigOption,
) -> None:
    """Print a one-time login link to the console for an agent; their API token stays as it is."""
    if base is not None and not base.startswith(("http://", "https://")):
        fail(f"--base-url is an http:// or https:// address, not {base!r}")
    settings = settings_or_exit(config)

    async def work() -> LoginLink | None:
        agent = await Agent.get_or_none(name=name)
        if agent is None:
            return None
        link = new_login_link(minutes)
        async with in_transaction() as connection:
            await run_plan_async(connection, store_login_link(agent.id, link, None))
        return link

    link = with_store(settings, work)
    if link is None:
        fail(f"no agent named {name!r}")
    typer.echo(console_link(base or base_url(settings.server.host, settings.server.port), link.code))
    until = shop_time(link.expires_at, shop_zone(settings.server.timezone))
    err.print(f"works once, until {until} / 仅可使用一次，{until} 前有效", highlight=False)


@app.command("list")
def list_agents(as_json: bool = typer.Option(False, "--json"), config: Path | None = ConfigOption) -> None:
    """List agents."""
    settings = settings_or_exit(config)
    agents = with_store(settings, lambda: Agent.all().order_by("id"))
    rows: list[dict[str, Any]] = [{"id": a.id, "name": a.name, "display_name": a.display_name, "skills": a.skills,
             "max": a.max_concurrent, "status": a.status, "role": a.role} for a in agents]
    if as_json:
        dump_json(rows)
        return
    grid = Table("id", "name", "display name", "skills", "max", "status", "role")
    for r in rows:
        grid.add_row(str(r["id"]), r["name"], r["display_name"], ",".join(r["skills"]), str(r["max"]), r["status"],
                     r["role"])
    out.print(grid)


@app.command("status")
def status(name: str, value: str = typer.Argument(..., metavar="online|away|offline"),
           config: Path | None = ConfigOption) -> None:
    """Set an agent's status (a running gateway notices within a tick and serves the queue)."""
    if value not in AGENT_STATUSES:
        fail(f"status is one of {', '.join(AGENT_STATUSES)}, not {value!r}")
    update_agent(config, name, status=value)
    out.print(f"agent {name} is {value}")


@app.command("set")
def set_agent(
    name: str,
    max_concurrent: int | None = typer.Option(None, "--max", min=1, help="most conversations at once"),
    skills: str | None = typer.Option(None, "--skills", help="comma-separated skills/groups (replaces them)"),
    config: Path | None = ConfigOption,
) -> None:
    """Change an agent's capacity or skills/groups."""
    changes: dict = {}
    if max_concurrent is not None:
        changes["max_concurrent"] = max_concurrent
    if skills is not None:
        changes["skills"] = [s.strip() for s in skills.split(",") if s.strip()]
    if not changes:
        fail("nothing to change: give --max or --skills")
    settings = settings_or_exit(config)
    if not with_store(settings, lambda: Agent.filter(name=name).update(**changes)):
        fail(f"no agent named {name!r}")
    out.print(f"agent {name} updated")
