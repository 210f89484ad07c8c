"""End to end: the dashboard in a real browser (Debian's Chromium driven by Playwright).

Starts ``streamlit run dashboard/app.py`` exactly as ``socialsim dashboard`` does, on a free
loopback port, opens every page in headless Chromium, runs a comparison, a workshop reveal and
an experiment browser, checks that the Plotly charts rendered and that the page logged no
error, and saves one screenshot per page into a temporary folder, so the test never rewrites
tracked files. To regenerate the README's screenshots, point it at ``docs/img``:
``SOCIALSIM_SCREENSHOTS=docs/img .venv/bin/python -m pytest tests/test_dashboard_browser.py``.

No browser is downloaded: Playwright launches ``/usr/bin/chromium`` (``SOCIALSIM_CHROMIUM``
overrides it). Without it, or without Playwright, the test is skipped with the reason locally
and fails in CI (``CI=true``), where ``.ci/run`` installs Chromium with apt.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHOTS = Path(os.environ.get("SOCIALSIM_SCREENSHOTS") or tempfile.mkdtemp(prefix="socialsim-shots-"))
CHROMIUM = Path(os.environ.get("SOCIALSIM_CHROMIUM", "/usr/bin/chromium"))
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Console errors that are not the app's, as (exact message, pattern of the resource's address).
#: Opened at a page's own address (e.g. /compare), Streamlit's front end first looks for its
#: server under that path, in case the app is served below a base path, gets 404 and then uses
#: the root: a probe, not a failure. Nothing else is allowed; in particular the app loads
#: nothing from the network (no icons from a CDN, usage statistics off).
BENIGN: tuple[tuple[str, str], ...] = (
    ("Failed to load resource: the server responded with a status of 404 (Not Found)",
     r"^http://127\.0\.0\.1:\d+/(compare|workshop|experiments|explore)/_stcore/(health|host-config)$"),
)
START_TIMEOUT = 180  # s, server start (imports, kernel warm-up)
RUN_TIMEOUT = 300_000  # ms, a comparison or a reveal on a busy machine


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser test must run in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed: pip install -e '.[test]'")
    if not CHROMIUM.is_file():
        unavailable(f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium; .ci/run does "
                    "it) or point SOCIALSIM_CHROMIUM at a Chromium binary")
    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    except Exception as exc:  # noqa: BLE001 - report why the browser did not start
        pw.stop()
        unavailable(f"Chromium at {CHROMIUM} did not start: {' '.join(str(exc).split())[:300]}")
    yield chromium
    chromium.close()
    pw.stop()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    pytest.importorskip("streamlit", reason="the dashboard needs streamlit (pip install -e .)")
    from sim.cli import dashboard_argv

    port = free_port()
    log_path = tmp_path_factory.mktemp("dashboard") / "server.log"
    env = {**os.environ, "SOCIALSIM_DASHBOARD_POPULATION": "small", "SOCIALSIM_DASHBOARD_WORKERS": "1",
           "NUMBA_NUM_THREADS": "1"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(dashboard_argv("127.0.0.1", port), cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the dashboard exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the dashboard did not answer within {START_TIMEOUT} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        try:  # the server, its worker processes and nothing else: the group this test started
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


class Page:
    """A browser tab that records every error the page logs."""

    def __init__(self, browser, width: int = 1440, height: int = 1100):
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.failed_requests: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("requestfailed", lambda request: self.failed_requests.append(request.url))
        self.page.on("response", lambda r: self.failed_requests.append(f"{r.status} {r.url}")
                     if r.status >= 400 else None)

    def _console(self, message) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        if not any(message.text == text and re.match(pattern, where) for text, pattern in BENIGN):
            self.problems.append(f"console error: {message.text} ({where})")

    def open(self, url: str) -> None:
        self.page.goto(url, wait_until="domcontentloaded")
        self.page.wait_for_selector("[data-testid='stSidebar']", timeout=60_000)

    def wait_charts(self, count: int, timeout: int = RUN_TIMEOUT) -> int:
        """Wait until ``count`` Plotly charts have drawn their SVG; returns how many there are."""
        self.page.wait_for_function(
            "n => [...document.querySelectorAll('.js-plotly-plot')].filter(p => p.querySelector('.main-svg'))"
            ".length >= n", arg=count, timeout=timeout)
        self.idle()
        return self.page.locator(".js-plotly-plot").count()

    def idle(self, timeout: int = RUN_TIMEOUT) -> None:
        """Wait until Streamlit has finished running the script."""
        self.page.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
            " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.match(/Running|Stop/)",
            timeout=timeout)
        self.page.wait_for_timeout(800)  # let the last charts finish drawing

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"dashboard-{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def check_clean(self) -> None:
        exceptions = self.page.locator("[data-testid='stException']").count()
        assert exceptions == 0, self.page.locator("[data-testid='stException']").first.inner_text()
        assert not self.problems, "\n".join(self.problems + [f"failed request: {u}" for u in self.failed_requests])

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser):
    page = Page(browser)
    yield page
    page.close()


def test_compare_in_a_browser(tab, server):
    tab.open(f"{server}/compare")
    tab.page.get_by_role("button", name="Run comparison").click()
    tab.page.get_by_text("Outcomes at the horizon").wait_for(timeout=RUN_TIMEOUT)
    assert tab.wait_charts(6) >= 6
    assert tab.page.locator("[data-testid='stDataFrame']").count() >= 2  # what differs, outcomes
    assert "strategies=provide_and_pray%2Cpurpose_led_stepwise" in tab.page.url or \
        "strategies=provide_and_pray,purpose_led_stepwise" in tab.page.url
    assert tab.page.get_by_text("success rate", exact=False).count() >= 2
    assert tab.page.get_by_text("replicates run in 1 worker process").count() == 1  # the pool works
    tab.shot("compare")
    tab.check_clean()


def test_explore_in_a_browser(tab, server):
    tab.open(f"{server}/?preset=purpose_led_stepwise&employees=600&departments=6&customers=6000&seed=7")
    assert tab.wait_charts(2) >= 2  # the Participation tab (a cheap first visit runs at once)
    assert tab.page.locator("[data-testid='stMetric']").count() >= 5
    tab.shot("explore")
    tab.page.get_by_role("tab", name="Network").click()
    tab.page.wait_for_timeout(1500)
    network = tab.page.locator(".js-plotly-plot").filter(has_text="network by stage")
    assert network.count() == 1 and network.locator(".scatterlayer .point").count() >= 300
    tab.shot("network")
    assert "preset=purpose_led_stepwise" in tab.page.url and "seed=7" in tab.page.url
    with tab.page.expect_download(timeout=120_000) as download:  # sharing: the self-contained report
        tab.page.get_by_role("button", name="Report (.html)", exact=True).click()
    page = Path(download.value.path()).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "purpose_led_stepwise" in page and "cdn.plot.ly" not in page
    with tab.page.expect_download(timeout=60_000) as download:
        tab.page.get_by_role("button", name="Scenario file (.toml)", exact=True).click()
    assert 'purpose_strength = 0.8' in Path(download.value.path()).read_text(encoding="utf-8")
    tab.check_clean()


def test_bad_link_in_a_browser(tab, server):
    tab.open(f"{server}/?preset=provide_and_pray&posting_friction=7&employees=600&departments=6&customers=6000")
    alert = tab.page.locator("[data-testid='stAlertContentError']").first
    alert.wait_for(timeout=60_000)
    assert "posting_friction: 7 is out of range" in alert.inner_text()
    assert tab.wait_charts(1) >= 1  # the preset still runs
    tab.check_clean()


def test_workshop_in_a_browser(browser, server):
    tab = Page(browser, height=1650)  # a projector-sized page: question, chart and numbers
    try:
        workshop(tab, server)
    finally:
        tab.close()


def workshop(tab: Page, server: str) -> None:
    tab.open(f"{server}/workshop?step=5")
    tab.page.get_by_text("Which rollout ends with more people contributing").wait_for(timeout=60_000)
    tab.page.get_by_role("button", name="Reveal").click()
    tab.page.get_by_text("The room guessed").wait_for(timeout=RUN_TIMEOUT)
    assert tab.wait_charts(1) == 1
    tab.page.locator("[data-testid='stMain'] h1").first.scroll_into_view_if_needed()
    tab.shot("workshop")
    tab.check_clean()


def test_experiments_in_a_browser(tab, server, tmp_path):
    from sim.experiments import run_sweep

    spec = tmp_path / "openness_x_purpose.toml"
    spec.write_text(
        'name = "openness_x_purpose"\nbase = "purpose_led_stepwise"\npopulation = "small"\nweeks = 52\n'
        'replicates = 2\nroot_seed = 1\noutputs = "series"\nout = "results/openness_x_purpose"\n'
        '[design]\nkind = "full_factorial"\n'
        '[factors.purpose_strength]\nvalues = [0.0, 0.4, 0.8]\n'
        '[factors.posting_friction]\nvalues = [0.1, 0.35, 0.6]\n')
    report = run_sweep(spec, workers=0)
    assert report.failed == 0
    tab.open(f"{server}/experiments")
    box = tab.page.get_by_label("Path")
    box.fill(str(report.out))
    box.press("Enter")
    tab.page.get_by_text("Summary by design point").wait_for(timeout=RUN_TIMEOUT)
    assert tab.wait_charts(3) >= 3  # heatmap, main effects, weekly lines
    assert tab.page.locator(".js-plotly-plot .heatmaplayer").count() == 1
    tab.shot("experiments")
    tab.check_clean()


def in_viewport(tab: Page, locator) -> bool:
    """Whether the element's box lies inside the visible part of the page (no scrolling)."""
    box = locator.bounding_box()
    size = tab.page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] \
        and box["x"] >= 0 and box["x"] + box["width"] <= size["width"]


@pytest.mark.parametrize("width, height", [(1440, 900), (1280, 720)])
def test_run_buttons_are_on_screen_on_a_laptop(browser, server, width, height):
    tab = Page(browser, width=width, height=height)
    try:
        tab.open(f"{server}/?preset=provide_and_pray&employees=600&departments=6&customers=6000&weeks=10")
        button = tab.page.get_by_role("button", name="Run", exact=True)
        button.wait_for(timeout=60_000)
        tab.idle()
        assert in_viewport(tab, button), button.bounding_box()
        tab.open(f"{server}/compare")
        button = tab.page.get_by_role("button", name="Run comparison")
        button.wait_for(timeout=60_000)
        tab.idle()
        assert in_viewport(tab, button), button.bounding_box()
    finally:
        tab.close()


def test_reveal_brings_something_new_on_screen_on_a_projector(browser, server):
    tab = Page(browser, width=1280, height=720)
    try:
        tab.open(f"{server}/workshop?step=5")
        tab.page.get_by_text("Which rollout ends with more people contributing").wait_for(timeout=60_000)
        tab.page.get_by_role("button", name="Reveal").click()
        tab.page.get_by_text("The room guessed").wait_for(timeout=RUN_TIMEOUT)
        tab.wait_charts(1)
        tab.page.wait_for_timeout(1500)  # the scroll runs once the reveal has drawn
        chart = tab.page.locator(".js-plotly-plot").first.bounding_box()
        # the reveal's chart starts in the upper half of the screen, not below the fold
        assert chart is not None and 0 <= chart["y"] < 720 / 2, chart
        tab.check_clean()
    finally:
        tab.close()
