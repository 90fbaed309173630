"""Headless Chromium driven over the Chrome DevTools Protocol on a pipe, for the browser tests
(the HTML report: tests/test_html.py; the documentation site: tests/test_docs.py).

``--remote-debugging-pipe``: fds 3 and 4 carry NUL-terminated JSON, so no websocket client and
no port are needed. Before a page is opened the Network, Log, Runtime and Page domains are
enabled, so the browser itself reports every request it is about to send, every console
message and uncaught exception, every browser log entry and any JavaScript dialog
(:meth:`Page.requests`, :meth:`Page.problems`). :func:`started` finds the browser as
``helpers.require_chromium`` does: missing, the tests skip here and fail in CI.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from helpers import require_chromium, unavailable


class Chromium:
    """Headless Chromium driven over CDP on a pipe; records network, console, log and dialogs."""

    def __init__(self, exe: str, profile: str) -> None:
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()

        def fds() -> None:  # the child's fd 3 reads our commands, fd 4 carries the replies
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen(
            [exe, "--headless", "--disable-gpu", "--no-sandbox", "--remote-debugging-pipe",
             f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-default-apps", "--mute-audio", "--hide-scrollbars", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds, pass_fds=(3, 4), start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def _recv(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("no reply from Chromium")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise EOFError("Chromium closed the pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._recv(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._recv(deadline))
        except TimeoutError:
            pass

    def open(self, url: str, width: int = 1400, height: int = 3000) -> "Page":
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session=session)
        deadline = time.monotonic() + 30
        handled = 0
        while True:  # until the load event; a dialog (alert) blocks loading: note it, dismiss it
            dialogs = [e for e in self.events if e.get("method") == "Page.javascriptDialogOpening"]
            for _ in dialogs[handled:]:
                self.send("Page.handleJavaScriptDialog", {"accept": True}, session=session)
            handled = len(dialogs)
            if any(e.get("method") == "Page.loadEventFired" for e in self.events):
                break
            self.events.append(self._recv(deadline))
        self.drain(0.5)  # anything late (a deferred fetch, a timer) still gets recorded
        return Page(self, session)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)


class Page:
    def __init__(self, browser: Chromium, session: str) -> None:
        self.b, self.session = browser, session
        self.events = list(browser.events)

    def eval(self, expr: str) -> Any:
        r = self.b.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=self.session)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"])
        return r["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        data = self.b.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                           session=self.session)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def problems(self) -> list[str]:
        """Console errors and warnings, exceptions, browser log errors, dialogs."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                out.append(f"console.{p['type']}: {p.get('args')}")
            elif m == "Runtime.exceptionThrown":
                out.append(f"exception: {p.get('exceptionDetails')}")
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
                out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
            elif m == "Page.javascriptDialogOpening":
                out.append(f"dialog: {p.get('message')}")
        return out


@contextmanager
def started() -> Iterator[Chromium]:
    """A running headless Chromium with a fresh profile, closed afterwards."""
    chromium = require_chromium()
    with tempfile.TemporaryDirectory() as profile:
        b = Chromium(chromium, profile)
        try:
            b.send("Browser.getVersion", timeout=60)
        except (TimeoutError, EOFError) as e:
            b.close()
            unavailable(f"Chromium ({chromium}) did not start: {e}")
        try:
            yield b
        finally:
            b.close()
