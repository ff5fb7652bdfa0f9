"""A small Chrome DevTools Protocol client for the report's headless-Chromium test.

Launches ``chromium --headless=new`` with a fresh profile and ``--remote-debugging-port=0``,
reads the port from ``<profile>/DevToolsActivePort``, attaches to the page target over a
websocket (``websocket-client``) and offers what the test needs: navigation, evaluation,
real mouse clicks, typing, visibility checks and screenshots. It records every console
error, uncaught exception and error log entry, and every requested URL. Every wait has a
timeout; :meth:`Browser.close` (also the context manager's exit) always kills the browser's
process group and removes the profile.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import websocket

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
WINDOW = (1400, 1000)
STEP_TIMEOUT = 30.0
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class BrowserError(RuntimeError):
    """The browser could not start, or a DevTools call failed or timed out."""


class BrowserTimeout(BrowserError):
    """A wait ran past its timeout."""


def find_chromium() -> str | None:
    """The Chromium binary: ``$CHROMIUM``, else chromium / chromium-browser / google-chrome."""
    env = os.environ.get("CHROMIUM", "").strip()
    if env:
        return shutil.which(env) or (env if os.access(env, os.X_OK) else None)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) of a PNG file; raises ValueError when it is not a PNG."""
    head = Path(path).read_bytes()[:24]
    if len(head) < 24 or head[:8] != PNG_MAGIC or head[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG file")
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def _remote_object_text(obj: dict) -> str:
    """A readable rendering of a Runtime.RemoteObject (a console.error argument)."""
    if "value" in obj:
        return str(obj["value"])
    return str(obj.get("description") or obj.get("unserializableValue") or obj.get("type"))


_VISIBLE_JS = """
(sel) => {
  const el = document.querySelector(sel);
  if (!el) return false;
  if (el.closest('[hidden]')) return false;
  if (typeof el.checkVisibility === 'function' &&
      !el.checkVisibility({visibilityProperty: true, contentVisibilityAuto: true})) return false;
  for (let e = el; e; e = e.parentElement) {
    const cs = getComputedStyle(e);
    if (cs.display === 'none' || cs.visibility === 'hidden' || cs.visibility === 'collapse')
      return false;
  }
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0;
}
"""


class Browser:
    """One headless Chromium with one page, driven over the DevTools Protocol."""

    def __init__(
        self,
        binary: str,
        *,
        window: tuple[int, int] = WINDOW,
        timeout: float = STEP_TIMEOUT,
    ) -> None:
        self.binary = binary
        self.window = window
        self.timeout = timeout
        self.console_errors: list[str] = []
        self.requested_urls: list[str] = []
        self.events: list[dict] = []
        self._ids = itertools.count(1)
        self._proc: subprocess.Popen | None = None
        self._ws: websocket.WebSocket | None = None
        self._profile: Path | None = None
        self._stderr_file: Any = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Browser:
        """Launch the browser, attach to its page and enable the domains; BrowserError if not."""
        try:
            self._launch()
            self._attach()
        except BaseException:
            self.close()
            raise
        return self

    def _launch(self) -> None:
        self._profile = Path(tempfile.mkdtemp(prefix="cdp-chromium-"))
        self._stderr_file = open(self._profile.parent / f"{self._profile.name}.stderr", "w+b")  # noqa: SIM115
        width, height = self.window
        args = [
            self.binary,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            f"--user-data-dir={self._profile}",
            "--remote-debugging-port=0",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        try:
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr_file,
                start_new_session=True,
            )
        except OSError as exc:
            raise BrowserError(f"cannot run {self.binary}: {exc}") from exc
        port_file = self._profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while True:
            if port_file.is_file():
                lines = port_file.read_text(errors="replace").splitlines()
                if lines and lines[0].strip().isdigit():
                    self.port = int(lines[0].strip())
                    return
            if self._proc.poll() is not None:
                raise BrowserError(
                    f"{self.binary} exited with status {self._proc.returncode} before "
                    f"opening DevTools; stderr:\n{self.stderr()}"
                )
            if time.monotonic() > deadline:
                raise BrowserError(
                    f"{self.binary} wrote no DevToolsActivePort within {self.timeout:.0f} s; "
                    f"stderr:\n{self.stderr()}"
                )
            time.sleep(0.05)

    def _attach(self) -> None:
        deadline = time.monotonic() + self.timeout
        target = None
        while target is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/json/list", timeout=5
                ) as resp:
                    targets = json.loads(resp.read().decode("utf-8"))
                target = next((t for t in targets if t.get("type") == "page"), None)
            except (OSError, ValueError):
                target = None
            if target is None:
                if time.monotonic() > deadline:
                    raise BrowserError(
                        f"no page target on DevTools port {self.port}; stderr:\n{self.stderr()}"
                    )
                time.sleep(0.1)
        try:
            self._ws = websocket.create_connection(
                target["webSocketDebuggerUrl"], timeout=self.timeout, suppress_origin=True
            )
        except (OSError, websocket.WebSocketException) as exc:
            raise BrowserError(f"cannot connect to the page target: {exc}") from exc
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.send(f"{domain}.enable")
        width, height = self.window
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def stderr(self) -> str:
        """What the browser wrote to stderr so far (the last 4000 characters)."""
        if self._stderr_file is None:
            return ""
        try:
            self._stderr_file.flush()
            self._stderr_file.seek(0)
            return self._stderr_file.read().decode("utf-8", "replace")[-4000:]
        except (OSError, ValueError):
            return ""

    def close(self) -> None:
        """Close the connection, kill the browser's process group and remove the profile."""
        if self._ws is not None:
            with contextlib.suppress(Exception):
                self._ws.close()
            self._ws = None
        proc, self._proc = self._proc, None
        if proc is not None:
            for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, sig)
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
            # The group may outlive its leader for a moment (renderer, zygote).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        if self._stderr_file is not None:
            name = self._stderr_file.name
            with contextlib.suppress(OSError):
                self._stderr_file.close()
            self._stderr_file = None
            Path(name).unlink(missing_ok=True)
        if self._profile is not None:
            for _ in range(10):
                shutil.rmtree(self._profile, ignore_errors=True)
                if not self._profile.exists():
                    break
                time.sleep(0.1)
            self._profile = None

    def __enter__(self) -> Browser:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- protocol ----------------------------------------------------------------------------

    def send(self, method: str, **params: Any) -> dict:
        """Call ``method`` and return its result, handling the events that arrive meanwhile."""
        if self._ws is None:
            raise BrowserError("the browser is not connected")
        msg_id = next(self._ids)
        self._ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while True:
            msg = self._receive(deadline, f"the reply to {method}")
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise BrowserError(f"{method} failed: {msg['error']}")
                return msg.get("result", {})

    def _receive(self, deadline: float, what: str) -> dict:
        """One message (events are recorded on the way); BrowserError past ``deadline``."""
        assert self._ws is not None
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserTimeout(f"timed out waiting for {what}")
            self._ws.settimeout(left)
            try:
                raw = self._ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except (OSError, websocket.WebSocketException) as exc:
                raise BrowserError(
                    f"connection lost waiting for {what}: {exc}; stderr:\n{self.stderr()}"
                ) from exc
            msg = json.loads(raw)
            if "method" in msg and "id" not in msg:
                self._on_event(msg)
            return msg

    def _on_event(self, msg: dict) -> None:
        self.events.append(msg)
        method = msg["method"]
        params = msg.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(_remote_object_text(a) for a in params.get("args", []))
            self.console_errors.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            desc = (details.get("exception") or {}).get("description") or ""
            self.console_errors.append(f"exception: {details.get('text', '')} {desc}".strip())
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            if entry.get("level") == "error":
                self.console_errors.append(
                    f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}"
                )
        elif method == "Network.requestWillBeSent":
            self.requested_urls.append(params.get("request", {}).get("url", ""))

    def wait_event(self, method: str, since: int = 0, timeout: float | None = None) -> dict:
        """The first ``method`` event at index >= ``since`` in :attr:`events`, waiting for it."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            for ev in self.events[since:]:
                if ev["method"] == method:
                    return ev
            since = len(self.events)
            self._receive(deadline, f"the event {method}")

    def pump(self, seconds: float) -> None:
        """Handle the events that arrive within ``seconds``."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self._receive(deadline, "events")
        except BrowserTimeout:
            pass

    # -- page actions ------------------------------------------------------------------------

    def navigate(self, url: str) -> None:
        """Open ``url`` and wait for its load event."""
        since = len(self.events)
        result = self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise BrowserError(f"navigation to {url} failed: {result['errorText']}")
        self.wait_event("Page.loadEventFired", since)

    def evaluate(self, expression: str, *, await_promise: bool = False) -> Any:
        """Evaluate ``expression`` in the page; its value, or BrowserError with the JS error."""
        result = self.send(
            "Runtime.evaluate",
            expression=expression,
            returnByValue=True,
            awaitPromise=await_promise,
            userGesture=True,
        )
        details = result.get("exceptionDetails")
        if details:
            desc = (details.get("exception") or {}).get("description") or details.get("text")
            raise BrowserError(f"JavaScript error in {expression[:200]!r}: {desc}")
        return result.get("result", {}).get("value")

    def call(self, function: str, *args: Any) -> Any:
        """Evaluate ``(function)(*args)`` with JSON-encoded arguments."""
        encoded = ", ".join(json.dumps(a) for a in args)
        return self.evaluate(f"({function})({encoded})")

    def wait_for(self, expression: str, timeout: float | None = None) -> Any:
        """Poll ``expression`` until it is truthy; its value, or BrowserError on timeout."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserTimeout(f"timed out waiting for {expression!r}")
            self.pump(0.05)

    def visible(self, selector: str) -> bool:
        """Whether ``selector`` exists, is not hidden, has a box and is displayed and visible."""
        return bool(self.call(_VISIBLE_JS, selector))

    def click(self, selector: str) -> None:
        """A real mouse click at the centre of ``selector`` (scrolled into view first)."""
        rect = self.call(
            """(sel) => {
              const el = document.querySelector(sel);
              if (!el) return null;
              el.scrollIntoView({block: 'center', inline: 'center'});
              const r = el.getBoundingClientRect();
              return {x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width, h: r.height};
            }""",
            selector,
        )
        if rect is None:
            raise BrowserError(f"no element matches {selector!r}")
        if rect["w"] <= 0 or rect["h"] <= 0:
            raise BrowserError(f"{selector!r} has an empty box, it cannot be clicked")
        x, y = rect["x"], rect["y"]
        self.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def type_text(self, selector: str, text: str, *, replace: bool = True) -> None:
        """Focus ``selector`` and insert ``text`` (firing input events); replaces its value."""
        found = self.call(
            """(sel, replace) => {
              const el = document.querySelector(sel);
              if (!el) return false;
              el.focus();
              if (replace && typeof el.select === 'function') el.select();
              return true;
            }""",
            selector,
            replace,
        )
        if not found:
            raise BrowserError(f"no element matches {selector!r}")
        if text:
            self.send("Input.insertText", text=text)
        elif replace:
            self.press_key("Backspace", 8)

    def press_key(self, key: str, code: int) -> None:
        """Press and release one key (``key`` name, Windows virtual key ``code``)."""
        for kind in ("rawKeyDown", "keyUp"):
            self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=key,
                windowsVirtualKeyCode=code,
                nativeVirtualKeyCode=code,
            )

    def screenshot(self, path: Path) -> Path:
        """Save a PNG of the viewport to ``path``."""
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path
