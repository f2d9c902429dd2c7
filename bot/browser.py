"""Finding and launching Chromium, one browser context per school."""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from .config import BrowserConfig
from .errors import Refused

SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
# Flags that work on our servers (no sandbox as root, no GPU, no calls home).
LAUNCH_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_browser(configured: Path | None, playwright: Playwright | None = None) -> Path:
    """A configured path, else Playwright's own Chromium if installed, else the system one."""
    if configured is not None:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return Path(configured)
        raise Refused(f"Navigateur configuré introuvable ou non exécutable : {configured} "
                      "(clé browser.executable)")
    own = _playwright_chromium(playwright)
    if own is not None:
        return own
    if SYSTEM_CHROMIUM.is_file():
        return SYSTEM_CHROMIUM
    raise Refused("Aucun navigateur Chromium trouvé : installez-le (« apt-get install -y chromium ») "
                  "ou indiquez son chemin dans la clé browser.executable.")


def _playwright_chromium(playwright: Playwright | None) -> Path | None:
    try:
        if playwright is not None:
            path = Path(playwright.chromium.executable_path)
        else:
            with sync_playwright() as p:
                path = Path(p.chromium.executable_path)
    except Exception:   # Playwright not set up for a browser of its own: fall through.
        return None
    return path if path.is_file() else None


_sessions: dict[int, "BrowserSession"] = {}   # id(browser) → its session, for private_page()
_sessions_lock = threading.Lock()


class BrowserSession:
    """One Playwright, one browser, one recorded context (per school) with its downloads folder;
    logins happen in private contexts that are never traced nor filmed (see private_page)."""

    def __init__(self, options: BrowserConfig, downloads_dir: Path, headed: bool = False,
                 slow_mo_ms: int | None = None, trace: bool = False, video_dir: Path | None = None):
        self.options = options
        self.downloads_dir = Path(downloads_dir)
        self.headless = options.headless and not headed
        self.slow_mo_ms = options.slow_mo_ms if slow_mo_ms is None else slow_mo_ms
        self.trace = trace
        self.video_dir = video_dir
        self._playwright: Playwright | None = None
        self.browser: Browser | None = None
        self.context: BrowserContext | None = None
        self.page: Page | None = None
        self._extra_contexts: list[BrowserContext] = []

    def __enter__(self) -> "BrowserSession":
        self._playwright = sync_playwright().start()
        try:
            executable = find_browser(self.options.executable, self._playwright)
            self.browser = self._playwright.chromium.launch(
                executable_path=str(executable), headless=self.headless,
                slow_mo=self.slow_mo_ms, args=LAUNCH_FLAGS, downloads_path=str(self.downloads_dir))
            with _sessions_lock:
                _sessions[id(self.browser)] = self
            # Assertions that wait for a page state get the same patience as actions.
            expect.set_options(timeout=self.options.action_timeout_ms)
            self.context = self._new_context(video=True)
            if self.trace:
                self.context.tracing.start(screenshots=True, snapshots=True, sources=False)
            try:
                self.page = self.context.new_page()
            except PlaywrightError as exc:
                if self.video_dir and "ffmpeg" in str(exc):
                    raise Refused("La vidéo (--video) demande le ffmpeg de Playwright, absent de cette machine "
                                  "(« python -m playwright install ffmpeg » quand le réseau le permet) ; "
                                  "relancez sans --video : traces et captures restent enregistrées.") from None
                raise
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _new_context(self, video: bool = False) -> BrowserContext:
        extra = {"record_video_dir": str(self.video_dir)} if video and self.video_dir else {}
        context = self.browser.new_context(
            accept_downloads=True, locale="fr-FR", viewport={"width": 1280, "height": 900}, **extra)
        context.set_default_timeout(self.options.action_timeout_ms)
        context.set_default_navigation_timeout(self.options.navigation_timeout_ms)
        return context

    def isolated_page(self) -> Page:
        """A page in a fresh context (no cookies): another person at another computer."""
        context = self._new_context()
        self._extra_contexts.append(context)
        return context.new_page()

    # Traces: one chunk per flow -------------------------------------------------------------------
    def start_trace_chunk(self, title: str) -> None:
        if self.trace:
            self.context.tracing.start_chunk(title=title)

    def stop_trace_chunk(self, path: Path) -> Path | None:
        if not self.trace:
            return None
        try:
            self.context.tracing.stop_chunk(path=str(path))
        except PlaywrightError:
            return None   # a dead browser keeps its trace: the flow's own result matters more
        return path

    def __exit__(self, *exc) -> None:
        if self.browser is not None:
            with _sessions_lock:
                _sessions.pop(id(self.browser), None)
        for closer in (*self._extra_contexts, self.context, self.browser):
            if closer is not None:
                try:
                    closer.close()
                except Exception:
                    pass
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None


@contextmanager
def private_page(page: Page) -> Iterator[Page]:
    """A page of the same browser in a fresh context that is neither traced nor filmed, for
    typing a password; on success its cookies (the site's session) are handed to `page`'s
    context, which then continues identified."""
    session = _sessions.get(id(page.context.browser))
    context = session._new_context() if session else page.context.browser.new_context()
    try:
        private = context.new_page()
        yield private
        page.context.add_cookies(context.cookies())
    finally:
        context.close()
