"""Open a page in headless Chromium and read what a person sees: its rendered text and a screenshot.

Chromium comes from Debian's packages (``apt-get install chromium``); it is driven over
its DevTools protocol with ``websocket-client``, so no browser is downloaded. Every run
uses a fresh profile and no network-facing background services.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--remote-debugging-port=0"]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


class Browser:
    def __init__(self, executable: str) -> None:
        import websocket

        self.profile = Path(tempfile.mkdtemp(prefix="dlf-chromium-"))
        self.proc = subprocess.Popen([executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("Chromium did not start (no DevToolsActivePort)")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as reply:
            pages = [t for t in json.load(reply) if t.get("type") == "page"]
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30,
                                              suppress_origin=True)
        self.ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result

    def evaluate(self, expression: str, *, wait: bool = False) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=wait)
        return result.get("result", {}).get("value")

    def open(self, path: Path, *, math_timeout: float = 20.0) -> None:
        """Load a local page and wait until MathJax (if the page has it) has typeset everything."""
        self.send("Page.enable")
        self.send("Page.navigate", url=path.resolve().as_uri())
        deadline = time.monotonic() + 30
        while self.evaluate("document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise RuntimeError(f"{path} did not finish loading")
            time.sleep(0.1)
        self.evaluate(
            "new Promise(done => { if (!window.MathJax || !MathJax.Hub) return done(false);"
            " const go = () => MathJax.Hub.Queue(() => done(true));"
            " if (MathJax.isReady) go(); else MathJax.Hub.Register.StartupHook('End', go);"
            f" setTimeout(() => done(false), {int(math_timeout * 1000)}); }})", wait=True)

    def visible_text(self) -> str:
        return str(self.evaluate("document.body.innerText"))

    def count(self, selector: str) -> int:
        return int(self.evaluate(f"document.querySelectorAll({json.dumps(selector)}).length"))

    def screenshot(self, path: Path) -> Path:
        self.send("Emulation.setDeviceMetricsOverride", width=1200, height=900, deviceScaleFactor=1,
                  mobile=False)
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        if getattr(self, "ws", None) is not None:
            self.ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def require_browser() -> bool:
    """In CI (``DLF_REQUIRE_BROWSER=1``) a missing Chromium is a failure, not a skip."""
    return os.environ.get("DLF_REQUIRE_BROWSER") == "1"
