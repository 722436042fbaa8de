"""The console plugin serves its own static files and nothing else."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from csgw.plugins.console import csgw_routes
from csgw.plugins.console.routes import STATIC


async def client() -> TestClient:
    app = web.Application()
    app.router.add_routes(csgw_routes(services=None))
    test_client = TestClient(TestServer(app))
    await test_client.start_server()
    return test_client


async def test_index_and_assets_with_their_types_and_headers():
    test_client = await client()
    try:
        page = await test_client.get("/console/")
        assert page.status == 200 and page.content_type == "text/html"
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert 'src="console.js"' in await page.text()
        script = await test_client.get("/console/console.js")
        assert script.status == 200 and script.content_type == "text/javascript"
        style = await test_client.get("/console/console.css")
        assert style.content_type == "text/css"
        bare = await test_client.get("/console", allow_redirects=False)
        assert bare.status == 302 and bare.headers["Location"] == "/console/"
    finally:
        await test_client.close()


async def test_every_module_the_page_imports_is_served():
    test_client = await client()
    try:
        for path in sorted(STATIC.glob("*.js")):
            response = await test_client.get(f"/console/{path.name}")
            assert response.status == 200, path.name
    finally:
        await test_client.close()


async def test_other_names_are_not_found():
    test_client = await client()
    try:
        for name in ("..%2Frouters.py", ".hidden.js", "routes.py", "missing.js", "index.html"):
            response = await test_client.get(f"/console/{name}")
            assert response.status == 404, name
    finally:
        await test_client.close()
