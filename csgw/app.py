"""The composition root: the gateway core and the health monitor in one aiohttp application
(webhooks, channel routes, agent API, health routes; lifecycle in cleanup_ctx).

It sits above `csgw.gateway` and `csgw.health`, so neither has to import the other."""

from __future__ import annotations

from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from csgw.config.schema import Settings
from csgw.gateway.api import add_api
from csgw.gateway.api.auth import authenticate, is_supervisor, request_token
from csgw.gateway.api.context import SERVICES
from csgw.gateway.api.errors import ApiError, api_errors
from csgw.gateway.limits import IP_LIMITS, IpLimits, ip_rate_limit, is_loopback, proxy_networks
from csgw.gateway.plugin_host import PluginHost
from csgw.gateway.read_timeouts import body_timeout, handler_args
from csgw.gateway.services import GatewayServices
from csgw.gateway.storage.unavailable import store_unavailable
from csgw.health.metrics import metrics_response
from csgw.health.monitor import HealthMonitor

log = structlog.get_logger(__name__)
MONITOR = web.AppKey("health_monitor", HealthMonitor)


async def webhook(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    plugin, account = request.match_info["plugin"], request.match_info["account"]
    channel = services.channel(plugin, account)
    if channel is None:
        log.info("webhook for unknown account", channel=plugin, account=account, method=request.method)
        return web.Response(status=404, text="unknown channel account")
    return await channel.webhook(request)


async def healthz(request: web.Request) -> web.Response:
    report = await request.app[MONITOR].recent_report()
    status = 503 if report["status"] == "down" else 200
    if not await _sees_details(request):
        # paths, accounts and last errors are for the operator: others see each check's verdict
        report = {"status": report["status"],
                  "checks": [{"name": check["name"], "status": check["status"]} for check in report["checks"]]}
    return web.json_response(report, status=status)


async def _sees_details(request: web.Request) -> bool:
    """The machine itself (a monitor on loopback, `csgw health`) or a supervisor's token."""
    if is_loopback(request.app[IP_LIMITS].client_ip(request)):
        return True
    if request_token(request) is None:
        return False
    try:
        return is_supervisor(await authenticate(request))
    except ApiError:
        return False


async def livez(request: web.Request) -> web.Response:
    """The process is up and its event loop answers: restart it only when this fails."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Can take traffic (for a load balancer): started, not stopping, not down."""
    services = request.app[SERVICES]
    if not services.started or services.stopping:
        return web.json_response({"status": "not_ready"}, status=503)
    report = await request.app[MONITOR].recent_report()
    ready = report["status"] != "down"
    return web.json_response({"status": "ready" if ready else "not_ready"}, status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    return metrics_response(await request.app[MONITOR].report())


async def index(request: web.Request) -> web.Response:
    raise web.HTTPFound("/console/")


def create_app(settings: Settings, host: PluginHost) -> web.Application:
    """Build the app; the gateway starts with the app and drains when it stops."""
    server = settings.server
    app = web.Application(
        middlewares=[body_timeout(server.body_timeout_seconds), ip_rate_limit, store_unavailable, api_errors],
        client_max_size=server.max_body_bytes, handler_args=handler_args(server.header_timeout_seconds))
    services = GatewayServices(settings, host)
    monitor = HealthMonitor(services)
    monitor.checks.append(services.store_writes)
    app[SERVICES] = services
    app[MONITOR] = monitor
    app[IP_LIMITS] = IpLimits(
        trusted_proxies=proxy_networks(settings.server.trusted_proxies, settings.server.behind_tls_proxy),
        cluster=services.limits if services.limits.shared else None, **settings.server.rate_limits.model_dump())

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await services.start()
        monitor.start()
        yield
        await monitor.stop()
        await services.stop()

    async def begin_shutdown(app: web.Application) -> None:
        await services.begin_shutdown()

    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(begin_shutdown)
    app.router.add_route("*", "/webhooks/{plugin}/{account}", webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/", index)
    plain, api = services.app_routes()
    add_api(app, api)
    app.router.add_routes(plain)
    return app
