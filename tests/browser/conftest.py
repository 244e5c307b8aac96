"""Browser fixtures: the real app served on 127.0.0.1, driven by Debian's Chromium.

One server and one browser per session; every test gets a fresh browser context (no cookies
carried over) at the size of a phone or of a desktop screen. The bundled county catalog is
loaded so the pages look like the real portal.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tests import databases
from tests.conftest import make_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"

DEVICES = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
    "desktop": {
        "viewport": {"width": 1366, "height": 768},
    },
}


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, bundled_template):
    """Base URL of the portal, served from a background thread with the bundled catalog.

    The server works on its own copy of the seeded instance folder (tests/conftest.py seeds it
    once per session with `seed(make_app(...), BUNDLED_CATALOG)`), so nothing it writes leaks
    into the other tests.
    """
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):  # keep failure reports free of access logs
            pass

    instance, database_uri, database_name = bundled_template.copy(tmp_path_factory.mktemp("browser") / "instance")
    app = make_app(instance, database_uri)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"  # links in mail lead here
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["portal.db"].engine.dispose()
        if database_name:
            databases.drop(database_name)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (./scripts/test does it as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture(params=list(DEVICES))
def device(request) -> str:
    """The device a test runs on; override with @pytest.mark.parametrize("device", ["phone"])."""
    return request.param


@pytest.fixture
def context(browser, live_server, device):
    context = browser.new_context(base_url=live_server, locale="zh-CN", **DEVICES[device])
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def pytest_collection_modifyitems(items):
    # Keep the browser suite honest: every test under tests/browser carries the marker.
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            if not item.get_closest_marker("browser"):
                raise pytest.UsageError(f"{item.nodeid} is not marked @pytest.mark.browser")


@pytest.fixture
def tap(device):
    """Press a link or button the way the device would: a tap on the phone, a click on the desktop."""

    def press(locator):
        if DEVICES[device].get("has_touch"):
            locator.tap()
        else:
            locator.click()

    return press


@pytest.fixture(scope="session")
def live_app(live_server):
    """The Flask app object behind `live_server`, for tests that add data to its database
    (e.g. `services.seed.load_bundles`) inside `live_app.app_context()`."""
    import gc

    from werkzeug.serving import BaseWSGIServer

    port = int(live_server.rsplit(":", 1)[1])
    for obj in gc.get_objects():
        if isinstance(obj, BaseWSGIServer) and obj.server_port == port:
            return obj.app
    pytest.fail(f"no WSGI server on port {port}: cannot reach the live app")
