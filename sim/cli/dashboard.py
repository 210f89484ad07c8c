"""``socialsim dashboard``: start the Streamlit dashboard and open it in a browser."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .. import startup
from ..startup import COMPILE_MESSAGE
from .common import _fail, command


def _dashboard_app() -> Path:
    """The dashboard's ``app.py``: beside ``sim/`` in a source tree, else the installed ``dashboard``
    package (a wheel installs it next to ``sim``)."""
    source_tree = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
    if source_tree.is_file():
        return source_tree
    import importlib.util

    spec = importlib.util.find_spec("dashboard")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / "app.py").is_file():
            return Path(folder) / "app.py"
    return source_tree


DASHBOARD_APP = _dashboard_app()


def dashboard_argv(host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line of the dashboard."""
    return [sys.executable, "-m", "streamlit", "run", str(DASHBOARD_APP), "--server.address", host,
            "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "viewer", "--server.fileWatcherType", "none"]


def _open_browser_when_ready(url: str, timeout: float = 120.0) -> None:
    """Open ``url`` in the default browser once the server answers its health check (in a thread)."""
    import threading
    import time
    import urllib.request
    import webbrowser

    def wait_and_open() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    webbrowser.open(url)
                    return
            except OSError:
                time.sleep(0.5)

    threading.Thread(target=wait_and_open, daemon=True).start()


@command("dashboard")
def dashboard_command(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8501,
    host: Annotated[str, typer.Option(
        help="Address to listen on (default: this machine only; 0.0.0.0 shares it on your network).")]
    = "127.0.0.1",
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open the dashboard in a browser.")] = True,
) -> None:
    """Start the interactive dashboard (Streamlit): explore, compare, workshop, experiments.

    Runs `streamlit run dashboard/app.py` on HOST:PORT until you press Ctrl+C.
    """
    import importlib.util
    import subprocess

    if importlib.util.find_spec("streamlit") is None:
        _fail("the dashboard needs Streamlit: pip install streamlit (or reinstall socialsim)", 1)
    if not DASHBOARD_APP.is_file():
        _fail(f"{DASHBOARD_APP}: the dashboard is not in this install (it ships with the source tree)", 1)
    url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0', '::') else host}:{port}"
    typer.echo(f"socialsim dashboard on {url} (Ctrl+C stops it)", err=True)
    if startup.kernel_cache_state() == "cold":  # the server compiles at its first page; say why it waits
        typer.echo(COMPILE_MESSAGE, err=True)
    if browser:
        _open_browser_when_ready(url)
    try:
        code = subprocess.call(dashboard_argv(host, port))
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)
