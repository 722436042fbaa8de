"""The plugin host: async reply order, local and broken plugins, disabling, every hook reached."""

from __future__ import annotations

import inspect
from pathlib import Path

import aiohttp
import pluggy
import typer
from aiohttp import web
from pydantic import BaseModel
from typer.testing import CliRunner

from csgw.gateway import hookspecs
from csgw.gateway.answers import Decision
from csgw.gateway.channel import InboundMessage
from csgw.gateway.health_check import CheckResult
from csgw.gateway.models import Conversation
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager
from csgw.gateway.reply import Reply, ReplyContext
from csgw.testing import make_settings, running_gateway

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parents[2]
hookimpl = pluggy.HookimplMarker("csgw")


class Handler:
    def __init__(self, name: str, priority: int, answer: str | None = None, fail: bool = False):
        self.name, self.priority, self.answer, self.fail = name, priority, answer, fail
        self.asked = 0

    async def reply(self, context: ReplyContext) -> Reply | None:
        self.asked += 1
        if self.fail:
            raise RuntimeError("handler bug")
        return Reply(self.answer, source=self.name) if self.answer else None


class Handlers:
    def __init__(self, handlers):
        self.handlers = handlers

    @hookimpl
    def csgw_reply_handlers(self, settings):
        return self.handlers


def context(text: str = "hi") -> ReplyContext:
    return ReplyContext(1, 1, "fake", "a", text, "text", {}, {})


async def test_first_reply_awaits_in_priority_order_not_first_coroutine(tmp_path):
    silent, broken = Handler("silent", 100), Handler("broken", 90, fail=True)
    low, high = Handler("low", 10, "low answer"), Handler("high", 50, "high answer")
    host = PluginHost(get_plugin_manager(load_entrypoints=False, extra=[("h", Handlers([low, silent, high, broken]))]))
    settings = make_settings(tmp_path)
    ordered = host.reply_handlers(settings)
    assert [h.name for h in ordered] == ["silent", "broken", "high", "low"]
    reply = await host.first_reply(ordered, context())
    assert reply.text == "high answer"
    assert (silent.asked, broken.asked, high.asked, low.asked) == (1, 1, 1, 0)


class Observer:
    def __init__(self, fail: bool = False) -> None:
        self.fail, self.seen = fail, []

    @hookimpl
    async def csgw_message_received(self, services, message, profile):
        if self.fail:
            raise RuntimeError("observer bug")
        self.seen.append((message, profile))


async def test_observation_hooks_are_awaited_and_their_failures_swallowed():
    # One observer (awaited in place) and two (gathered): a failing one never reaches the pipeline.
    for observers in ([Observer()], [Observer(fail=True)], [Observer(fail=True), Observer()]):
        extra = [(f"o{number}", observer) for number, observer in enumerate(observers)]
        host = PluginHost(get_plugin_manager(load_entrypoints=False, extra=extra))
        await host.notify("csgw_message_received", services=None, message={"id": 1}, profile={})  # no raise
        assert all(observer.seen == [({"id": 1}, {})] for observer in observers if not observer.fail)


class Override:
    def __init__(self, name: str, answer: str | None = None, fail: bool = False):
        self.name, self.answer, self.fail = name, answer, fail
        self.seen: list[tuple[str, str | None]] = []

    async def override(self, decision: Decision) -> Reply | None:
        self.seen.append((decision.context.text, decision.reply.text if decision.reply else None))
        if self.fail:
            raise RuntimeError("override bug")
        return Reply(self.answer, source=self.name) if self.answer else None

    @hookimpl
    def csgw_reply_overrides(self, services):
        return [self]


async def test_every_reply_override_sees_the_decision_and_the_first_answer_is_sent(tmp_path):
    silent, broken = Override("silent"), Override("broken", fail=True)
    first, second = Override("first", "广播：支付渠道故障"), Override("second", "another")
    extra = [(override.name, override) for override in (silent, broken, first, second)]
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}], extra_plugins=extra) as gw:
        await gw.services.accept(InboundMessage("fake", "a", "u", "下单后多久发货", "m-1"))
        [sent] = await gw.fake("a").wait_sent(1)
    assert sent.text == "广播：支付渠道故障"
    decided = "现货订单48小时内发货哦，预售商品以详情页标注时间为准。"  # the knowledge base's answer
    assert silent.seen == broken.seen == first.seen == second.seen == [("下单后多久发货", decided)]


def test_config_reorders_and_disables_reply_handlers(tmp_path):
    handlers = [Handler("a", 10), Handler("b", 20), Handler("c", 30)]
    host = PluginHost(get_plugin_manager(load_entrypoints=False, extra=[("h", Handlers(handlers))]))
    settings = make_settings(tmp_path, reply={"priorities": {"a": 99}, "disabled": ["c"]})
    assert [h.name for h in host.reply_handlers(settings)] == ["a", "b"]


def test_disabled_builtin_is_blocked_and_listed_as_disabled():
    host = PluginHost(get_plugin_manager(disabled=["kb"]))
    infos = {i.name: i for i in host.plugins()}
    assert infos["kb"].enabled is False and infos["kb"].source == "builtin"
    assert infos["webchat"].enabled and infos["webchat"].hooks == (
        "csgw_channel_types", "csgw_message_received", "csgw_reply_handlers", "csgw_texts")


async def test_local_plugins_load_and_a_broken_one_does_not_stop_the_gateway(tmp_path):
    paths = [str(FIXTURES / "broken_local_plugin.py"), str(FIXTURES / "local_echo_plugin.py")]
    host = PluginHost(get_plugin_manager(paths=paths))
    names = {i.name: i for i in host.plugins()}
    assert "local_echo_plugin" in names and names["local_echo_plugin"].source == "path"
    assert "broken_local_plugin" not in names
    echo = [("local_echo_plugin", host.pm.get_plugin("local_echo_plugin"))]
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}], extra_plugins=echo) as gw:
        await gw.services.accept(InboundMessage("fake", "a", "u", "echo:回声", "m-1"))
        [sent] = await gw.fake("a").wait_sent(1)
        assert sent.text == "回声"


class RecorderSection(BaseModel):
    greeting: str = "hello"


class Recorder:
    """Implements every hook and records the calls."""

    def __init__(self):
        self.calls: dict[str, int] = {}

    def _seen(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    @hookimpl
    def csgw_channel_types(self):
        self._seen("csgw_channel_types")
        return []

    @hookimpl
    def csgw_reply_handlers(self, settings):
        self._seen("csgw_reply_handlers")
        return []

    @hookimpl
    def csgw_reply_overrides(self, services):
        self._seen("csgw_reply_overrides")
        return []

    @hookimpl
    def csgw_report_sections(self, settings):
        self._seen("csgw_report_sections")
        return []

    @hookimpl
    def csgw_assigners(self, settings):
        self._seen("csgw_assigners")
        return []

    @hookimpl
    def csgw_classifiers(self, settings):
        self._seen("csgw_classifiers")
        return []

    @hookimpl
    def csgw_health_checks(self, services):
        self._seen("csgw_health_checks")
        recorder = self

        class Extra:
            name = "recorder"

            async def run(self):
                recorder._seen("health_check_run")
                return CheckResult("recorder", "ok", 1)

        return [Extra()]

    @hookimpl
    def csgw_routes(self, services):
        self._seen("csgw_routes")

        async def hello(request):
            return web.json_response({"hello": "plugin"})

        return [web.get("/plugin/hello", hello)]

    @hookimpl
    def csgw_cli(self, app):
        self._seen("csgw_cli")

        @app.command("recorder-hello")
        def hello():
            typer.echo("hello from a plugin command")

    @hookimpl
    async def csgw_startup(self, services):
        self._seen("csgw_startup")

    @hookimpl
    async def csgw_shutdown(self, services):
        self._seen("csgw_shutdown")

    @hookimpl
    async def csgw_message_received(self, services, message):
        self._seen("csgw_message_received")

    @hookimpl
    def csgw_message_sent(self, services, message):
        self._seen("csgw_message_sent")

    @hookimpl
    def csgw_config_sections(self):
        self._seen("csgw_config_sections")
        return {"recorder": RecorderSection}

    @hookimpl
    def csgw_models(self):
        self._seen("csgw_models")
        return []

    @hookimpl
    def csgw_texts(self):
        self._seen("csgw_texts")
        return {"recorder.hello": {"zh-Hans": "你好"}}

    @hookimpl
    async def csgw_conversation_changed(self, services, conversation, change):
        self._seen(f"csgw_conversation_changed:{change}")

    @hookimpl
    async def csgw_health_changed(self, services, check, old, new, detail):
        self._seen(f"csgw_health_changed:{check}:{old}->{new}")


async def test_every_hook_is_reached(tmp_path):
    recorder = Recorder()
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}],
                               extra_plugins=[("recorder", recorder)]) as gw, aiohttp.ClientSession() as session:
        assert gw.services.settings.section("recorder", RecorderSection).greeting == "hello"
        accepted = await gw.services.accept(InboundMessage("fake", "a", "u", "你好", "m-1"))
        await gw.fake("a").wait_sent(1)
        await gw.services.conversations.close(await Conversation.get(id=accepted.conversation_id))
        await gw.fake("a").wait_sent(2)
        await gw.services.pipeline.drain()
        async with session.get(gw.url + "/plugin/hello") as response:
            assert await response.json() == {"hello": "plugin"}
        from csgw.app import MONITOR

        monitor = gw.server.app[MONITOR]
        await monitor.report()
        gw.services.settings.health.outbox_pending_degraded = 0
        report = await monitor.report()
        assert {c["name"]: c["status"] for c in report["checks"]}["outbox"] == "degraded"
        assert report["status"] in ("degraded", "down")
        for task in list(gw.services._background):
            await task
        sections = gw.services.host.report_sections(gw.services.settings)  # what the reports ask
        assert [section.name for section in sections] == ["incidents"]
    app = typer.Typer()
    PluginHost(get_plugin_manager(load_entrypoints=False, extra=[("recorder", recorder)])).add_cli(app)

    @app.command("noop")
    def noop():  # a second command so typer keeps subcommand names
        pass

    result = CliRunner().invoke(app, ["recorder-hello"])
    assert result.output.strip() == "hello from a plugin command"
    assert gw.services.host.texts()["recorder.hello"] == {"zh-Hans": "你好"}
    for name in ("csgw_channel_types", "csgw_config_sections", "csgw_models", "csgw_texts", "csgw_reply_handlers",
                 "csgw_reply_overrides", "csgw_report_sections", "csgw_assigners", "csgw_classifiers",
                 "csgw_health_checks", "health_check_run", "csgw_routes", "csgw_cli", "csgw_startup",
                 "csgw_shutdown", "csgw_message_received", "csgw_message_sent",
                 "csgw_conversation_changed:closed", "csgw_health_changed:outbox:ok->degraded"):
        assert recorder.calls.get(name), name


def hook_names() -> list[str]:
    return [name for name, value in inspect.getmembers(hookspecs) if name.startswith("csgw_") and callable(value)]


def test_every_hook_has_a_docstring_a_doc_entry_and_a_test():
    docs = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    tests = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py"))
    assert len(hook_names()) == 23
    for name in hook_names():
        assert getattr(hookspecs, name).__doc__, name
        assert f"`{name}`" in docs, f"{name} missing from docs/plugins.md"
        assert f"def {name}(" in tests, f"{name} has no test"


async def test_the_harness_loads_csgw_builtins_but_no_other_installed_plugin(tmp_path, monkeypatch):
    import importlib.metadata
    from types import SimpleNamespace

    from csgw.gateway import plugin_host

    loaded: list[str] = []

    class Foreign:
        @hookimpl
        def csgw_startup(self, services) -> None:
            loaded.append("foreign")

    foreign = SimpleNamespace(name="foreign", dist=SimpleNamespace(name="someone-elses"), load=lambda: Foreign())
    installed = importlib.metadata.entry_points(group="csgw")
    monkeypatch.setattr(plugin_host, "entry_points", lambda: [*installed, foreign])
    assert get_plugin_manager().has_plugin("foreign")  # `csgw serve` loads every installed plugin
    async with running_gateway(tmp_path) as gw:
        names = {name for name, _ in gw.services.host.pm.list_name_plugin()}
        assert {"webchat", "kb", "basic_assignment", "fake_channel"} <= names and "foreign" not in names
    assert loaded == []
