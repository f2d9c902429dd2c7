"""Finding and launching Chromium, one browser context per school."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .config import BrowserConfig
from .errors import Refused
from .fsutil import UnsafePath, check_dir, place_file, private_dir, safe_name, write_file
from .secrets import masked_url
from .text import shorten

SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
# Debian's package chromium-headless-shell: Chromium's old headless mode, with no browser window
# machinery behind it. What Playwright itself runs for headless work: on this project's runs it
# used half of the full browser's processor time for the same pages.
SYSTEM_HEADLESS_SHELL = Path("/usr/lib/chromium/chromium-headless-shell")
# Flags that work on our servers (no sandbox as root, no GPU, no calls home).
LAUNCH_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A headed run is watched by a person: Chromium's own words in French (Debian's chromium-l10n),
# no "unsupported flag" bar for --no-sandbox, and the window as large as the screen it opens on.
HEADED_FLAGS = ["--lang=fr-FR", "--test-type", "--start-maximized"]
# Preferences of the headed browser's profile (every context of the run inherits them): no
# downloads bubble over the page after each export, no offer to translate a French page.
HEADED_PREFERENCES = {
    "download_bubble": {"partial_view_enabled": False},
    "download": {"prompt_for_download": False},
    "translate": {"enabled": False},
    "intl": {"accept_languages": "fr-FR,fr"},
}
NO_DISPLAY = ("L'option --headed montre le navigateur à l'écran, mais cette session n'a pas d'affichage "
              "graphique (variable DISPLAY absente ou serveur X injoignable). Lancez sans --headed (le "
              "navigateur travaille alors sans fenêtre), ou dans un écran virtuel : « xvfb-run -a -s "
              "'-screen 0 1366x768x24' python -m bot … --headed ». Rien n'a été fait sur les sites.")


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_browser(configured: Path | None, playwright: Playwright | None = None, headless: bool = False) -> Path:
    """A configured path; else, for a headless run, Debian's headless shell when installed; else
    Playwright's own Chromium if installed, else the system one."""
    if configured is not None:
        if _runnable(Path(configured)):
            return Path(configured)
        raise Refused(f"Navigateur configuré introuvable ou non exécutable : {configured} "
                      "(clé browser.executable)")
    if headless and _runnable(SYSTEM_HEADLESS_SHELL):
        return SYSTEM_HEADLESS_SHELL
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


def _playwright_registry() -> Path:
    configured = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    return Path(configured) if configured and configured != "0" else Path.home() / ".cache" / "ms-playwright"


def use_system_ffmpeg_if_needed() -> None:
    """Playwright films through its own ffmpeg build, which cannot be downloaded here; the
    system's ffmpeg (Debian's, with VP8) does the same work. When Playwright's is missing, point
    Playwright at a registry of our own where ffmpeg is the system's and every other entry (its
    own Chromium, if any) links to the real registry. Must run before Playwright starts."""
    import playwright
    browsers = json.loads((Path(playwright.__file__).parent / "driver" / "package" / "browsers.json").read_text())
    revision = next((b["revision"] for b in browsers["browsers"] if b["name"] == "ffmpeg"), None)
    registry = _playwright_registry()
    system_ffmpeg = shutil.which("ffmpeg")
    if revision is None or (registry / f"ffmpeg-{revision}" / "ffmpeg-linux").is_file() or not system_ffmpeg:
        return   # Playwright's own ffmpeg is there, or nothing can replace it (a clear refusal follows)
    ours = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sacoche-ent-bot" / "ms-playwright"
    (ours / f"ffmpeg-{revision}").mkdir(parents=True, exist_ok=True)
    link = ours / f"ffmpeg-{revision}" / "ffmpeg-linux"
    if not link.exists():
        link.symlink_to(system_ffmpeg)
    if registry.is_dir() and registry != ours:
        for entry in registry.iterdir():
            if not (ours / entry.name).exists():
                (ours / entry.name).symlink_to(entry)
    os.environ["PLAYWRIGHT_BROWSERS_PATH"] = str(ours)


_sessions: dict[int, "BrowserSession"] = {}   # id(browser) → its session, for private_page()
_sessions_lock = threading.Lock()


class BrowserSession:
    """One Playwright, one browser, one recorded context (per school); logins happen in private
    contexts that are never traced nor filmed (see private_page). What Playwright and Chromium
    write themselves (downloads, traces, videos) goes to a private folder of the session's
    (mkdtemp, 0700, in `work_dir`: the run folder) and is moved into place by bot.fsutil, which
    never writes through a link planted in the run folder."""

    def __init__(self, options: BrowserConfig, work_dir: Path, headed: bool = False,
                 slow_mo_ms: int | None = None, trace: bool = False, video_dir: Path | None = None,
                 accepted_certificates: list[str] | None = None, trace_screenshots: bool = True,
                 prepare_context: Callable[[BrowserContext], None] | None = None):
        self.options = options
        # Called on every context the session opens (the recorded one, private logins, other
        # people's browsers): the headed banner must be in each of them.
        self.prepare_context = prepare_context
        self._profile_dir: Path | None = None
        # SPKI hashes of the self-signed certificates the config allows (bot/tls.py).
        self.accepted_certificates = list(accepted_certificates or [])
        self.work_dir = Path(work_dir)
        self._private: Path | None = None
        self.problems: list[str] = []   # French: what was made at the end and could not be kept
        self.headless = options.headless and not headed
        self.slow_mo_ms = options.slow_mo_ms if slow_mo_ms is None else slow_mo_ms
        self.trace = trace
        self.trace_screenshots = trace_screenshots
        self.video_dir = video_dir
        self._playwright: Playwright | None = None
        self.browser: Browser | None = None
        self.context: BrowserContext | None = None
        self.page: Page | None = None
        self._extra_contexts: list[BrowserContext] = []

    def __enter__(self) -> "BrowserSession":
        if self.video_dir:
            use_system_ffmpeg_if_needed()
        try:
            self._private = private_dir(".navigateur-", near=self.work_dir)
            (self._private / "telechargements").mkdir()
            self._playwright = sync_playwright().start()
            executable = find_browser(self.options.executable, self._playwright, headless=self.headless)
            if not self.headless and not display_available():
                raise Refused(NO_DISPLAY)
            try:
                if self.headless:
                    self.browser = self._playwright.chromium.launch(**self._launch_options(executable))
                else:
                    self.context = self._launch_headed(executable)
                    self.browser = self.context.browser
            except PlaywrightError as exc:
                # Before any click: a browser that exits, crashes or hangs at start is a local
                # problem to fix, not a site fault.
                if not self.headless and _display_refused(exc):
                    raise Refused(NO_DISPLAY) from None
                first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
                raise Refused(f"Le navigateur « {executable} » ne démarre pas ({shorten(first, 200)}) : vérifiez "
                              "browser.executable, ou installez Chromium (apt-get install -y chromium). Rien n'a "
                              "été fait sur les sites.") from None
            with _sessions_lock:
                _sessions[id(self.browser)] = self
            # Assertions that wait for a page state get the same patience as actions.
            expect.set_options(timeout=self.options.action_timeout_ms)
            if self.context is None:
                self.context = self._new_context(video=True)
            else:
                self._prepare(self.context)
            if self.trace:
                self.context.tracing.start(screenshots=self.trace_screenshots, snapshots=True, sources=False)
            try:
                self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
            except PlaywrightError as exc:
                if self.video_dir and "ffmpeg" in str(exc):
                    raise Refused("La vidéo (--video) demande ffmpeg, absent de cette machine "
                                  "(« apt-get install -y ffmpeg », ou « python -m playwright install ffmpeg » "
                                  "quand le réseau le permet) ; relancez sans --video : traces et captures "
                                  "restent enregistrées.") from None
                raise
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _certificate_flags(self) -> list[str]:
        if not self.accepted_certificates:
            return []
        return ["--ignore-certificate-errors-spki-list=" + ",".join(self.accepted_certificates)]

    def _launch_options(self, executable: Path) -> dict:
        flags = LAUNCH_FLAGS + self._certificate_flags() + ([] if self.headless else HEADED_FLAGS)
        return {"executable_path": str(executable), "headless": self.headless, "slow_mo": self.slow_mo_ms,
                "args": flags, "downloads_path": str(self._private / "telechargements"),
                "timeout": self.options.launch_timeout_ms}

    def _context_options(self, video: bool = False) -> dict:
        extra = {"record_video_dir": str(self._private / "video")} if video and self.video_dir else {}
        # Headless, a fixed page size makes screenshots alike from run to run; headed, the window
        # takes the screen it opens on, so nothing is cut on a 1366x768 laptop.
        size = {"viewport": {"width": 1280, "height": 900}} if self.headless else {"no_viewport": True}
        return {"accept_downloads": True, "locale": "fr-FR", **size, **extra}

    def _launch_headed(self, executable: Path) -> BrowserContext:
        """The headed browser: its own throw-away profile, whose preferences every context of the
        run inherits; that profile's window is the run's recorded context."""
        self._profile_dir = Path(tempfile.mkdtemp(prefix="sacoche-bot-profile-"))
        (self._profile_dir / "Default").mkdir()
        write_file(self._profile_dir / "Default" / "Preferences", json.dumps(HEADED_PREFERENCES), private=True)
        # Chromium on Linux takes its own words' language from the environment.
        french = {**os.environ, "LANGUAGE": "fr_FR:fr"}
        return self._playwright.chromium.launch_persistent_context(
            str(self._profile_dir), env=french, **self._launch_options(executable), **self._context_options(video=True))

    def _prepare(self, context: BrowserContext) -> BrowserContext:
        context.set_default_timeout(self.options.action_timeout_ms)
        context.set_default_navigation_timeout(self.options.navigation_timeout_ms)
        if self.prepare_context is not None:
            self.prepare_context(context)
        return context

    def _new_context(self, video: bool = False) -> BrowserContext:
        return self._prepare(self.browser.new_context(**self._context_options(video)))

    def isolated_page(self) -> Page:
        """A page in a fresh context (no cookies): another person at another computer. It is
        never traced nor filmed, so a password may be typed there (see private_page)."""
        context = self._new_context()
        self._extra_contexts.append(context)
        return context.new_page()

    # Traces: one chunk per flow -------------------------------------------------------------------
    def start_trace_chunk(self, title: str) -> None:
        if self.trace:
            self.context.tracing.start_chunk(title=title)

    def stop_trace_chunk(self, path: Path, keep: bool = True) -> Path | None:
        """End the step's chunk: written to `path` when kept, else dropped (nothing written).
        Playwright writes it in the session's private folder; it is then moved to `path`
        (OSError, UnsafePath when something was planted there)."""
        if not self.trace:
            return None
        staged = self._private / f"trace-{os.urandom(6).hex()}.zip"
        try:
            if keep:
                self.context.tracing.stop_chunk(path=str(staged))
            else:
                self.context.tracing.stop_chunk()
        except PlaywrightError:
            return None   # a dead browser keeps its trace: the flow's own result matters more
        return place_file(staged, path) if keep else None

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
            with contextlib.suppress(Exception):   # a driver already gone: the folders below still go
                self._playwright.stop()
            self._playwright = None
        self._keep_videos()
        if self._private is not None:
            shutil.rmtree(self._private, ignore_errors=True)
            self._private = None
        if self._profile_dir is not None:
            shutil.rmtree(self._profile_dir, ignore_errors=True)
            self._profile_dir = None

    def _keep_videos(self) -> None:
        """The videos, finished once their contexts closed, moved from the private folder to
        `video_dir`; one that cannot be is said in `problems`."""
        filmed = self._private / "video" if self._private is not None and self.video_dir else None
        if filmed is None or not filmed.is_dir():
            return
        for video in sorted(filmed.iterdir()):
            try:
                place_file(video, check_dir(self.video_dir, create=True) / video.name)
            except UnsafePath as exc:
                self.problems.append(f"la vidéo {video.name} n'a pas été gardée : {exc.message}")
            except OSError as exc:
                self.problems.append(f"la vidéo {video.name} n'a pas été gardée ({exc.strerror or exc})")


def display_available() -> bool:
    """A headed browser needs a graphical display: X11 (DISPLAY) or Wayland."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _display_refused(exc: PlaywrightError) -> bool:
    """Chromium's own way of saying the display named by DISPLAY cannot be reached."""
    text = str(exc)
    return "Missing X server" in text or "cannot open display" in text.lower()


# A whole-page screenshot stops at this height: a 3,000-parent list is 48,000 px tall, and
# capturing it timed out (and weighed 13 MB).
SCREENSHOT_MAX_HEIGHT_PX = 8000


class ScreenshotMissing(Exception):
    def __init__(self, reason: str, unsafe: UnsafePath | None = None):
        super().__init__(reason)
        self.reason = reason   # in French, for the report
        self.unsafe = unsafe   # something planted where it goes: refused, and the step fails


def take_screenshot(page: Page, path: Path, whole_page: bool, timeout_ms: int) -> None:
    """The visible window, or with `whole_page` the page from its top down to
    SCREENSHOT_MAX_HEIGHT_PX; raises ScreenshotMissing with the reason when there is none. The
    image is taken as bytes and written by the bot (never by Playwright through a planted link)."""
    try:
        if whole_page:
            height = page.evaluate("() => document.documentElement.scrollHeight")
            width = (page.viewport_size or {}).get("width") or page.evaluate("() => window.innerWidth")
            clip = {"x": 0, "y": 0, "width": width, "height": max(1, min(int(height), SCREENSHOT_MAX_HEIGHT_PX))}
            image = page.screenshot(full_page=True, clip=clip, timeout=timeout_ms)
        else:
            image = page.screenshot(timeout=timeout_ms)
        write_file(path, image)
    except PlaywrightTimeout:
        raise ScreenshotMissing(f"la page n'a pas pu être capturée en {timeout_ms / 1000:.0f} s") from None
    except PlaywrightError as exc:
        closed = "closed" in str(exc).lower()
        raise ScreenshotMissing("la page était déjà fermée (navigateur arrêté ?)" if closed
                                else f"le navigateur a refusé la capture ({shorten(str(exc).splitlines()[0], 120)})") from None
    except UnsafePath as exc:
        raise ScreenshotMissing(f"capture refusée : {exc.message}", unsafe=exc) from None
    except OSError as exc:
        raise ScreenshotMissing(f"impossible d'écrire l'image sur ce poste ({exc.strerror or exc})") from None


@contextmanager
def private_page(page: Page) -> Iterator[Page]:
    """A page of the same browser in a fresh context that is neither traced nor filmed, for
    typing a password; on success its cookies (the site's session) are handed to `page`'s
    context, which then continues identified. A page of an isolated context (another person's
    browser, never traced nor filmed either) is already such a page: it is given as it is."""
    session = _sessions.get(id(page.context.browser))
    if session is not None and page.context in session._extra_contexts:
        yield page
        return
    private = PrivatePage(page)
    try:
        yield private.page
        private.hand_over()
    finally:
        private.close()


class PrivatePage:
    """The page of private_page, for when it must outlive one block: opened now, used later
    (a login form that makes its visitor wait), then handed over and closed."""

    def __init__(self, for_page: Page):
        self.for_page = for_page
        session = _sessions.get(id(for_page.context.browser))
        self._context = session._new_context() if session else for_page.context.browser.new_context()
        try:
            self.page = self._context.new_page()
        except BaseException:
            self._context.close()
            raise

    def hand_over(self) -> None:
        """Give the private context's cookies (the site's session) to the page it was opened for."""
        self.for_page.context.add_cookies(self._context.cookies())

    def close(self) -> None:
        try:
            self._context.close()
        except PlaywrightError:
            pass   # the browser is already gone


class NavigationWatch:
    """Remembers how the last top-level page load of `page` ended (HTTP status, or the network
    error), so that a page object can tell at once "the server answered 500" or "the server is
    gone" instead of waiting out its timeout for a control that will never come."""

    def __init__(self, page: Page):
        self.page = page
        self.status: int | None = None
        self.url = ""
        self.failure = ""
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_failure)

    def _is_page_load(self, request) -> bool:
        try:
            return request.is_navigation_request() and request.frame == self.page.main_frame
        except PlaywrightError:
            return False

    def _on_response(self, response) -> None:
        if self._is_page_load(response.request):
            self.status, self.url, self.failure = response.status, response.url, ""

    def _on_failure(self, request) -> None:
        if self._is_page_load(request):
            self.status, self.url, self.failure = None, request.url, request.failure or "échec réseau"

    def problem(self) -> str:
        """A French description of what went wrong with the last page load, or "". (A page whose
        body breaks off is not seen here: Chromium keeps it loading, and the wait for its
        controls runs out instead, a passing failure too.)"""
        if self.failure:
            return f"le serveur ne répond pas ({self.failure}) à {masked_url(self.url)}"
        if self.status is not None and self.status >= 500:
            return f"le serveur a répondu par une erreur HTTP {self.status} à {masked_url(self.url)}"
        return ""


class DownloadBroken(Exception):
    """The browser reported a download as failed (transfer cut, server error)."""


class PageInsteadOfDownload(Exception):
    """The click loaded a page instead of a file (a login form after a lost session, an error
    page): `status` is its HTTP status."""

    def __init__(self, status: int, url: str):
        super().__init__(f"une page (HTTP {status}) au lieu du fichier attendu")
        self.status, self.url = status, url


def final_answer(request):
    """The response that ends `request`'s redirects; None when it cannot be read (a redirect
    Playwright does not follow, a tab gone with its request). Raises DownloadBroken when no
    answer came at all (server gone, connection refused), at once rather than after the wait
    for a download that will not start."""
    while True:
        try:
            answer = request.response()
        except PlaywrightError:
            return None   # a tab opened for the file and closed once the download began
        if answer is None:
            raise DownloadBroken(request.failure or "aucune réponse du serveur")
        if not 300 <= answer.status < 400:
            return answer
        if request.redirected_to is None:
            return None
        request = request.redirected_to


def download_by_clicking(link, folder: Path, default_name: str) -> Path:
    """Click `link` (a Locator), wait for the download it starts, save it in `folder`.
    Raises DownloadBroken when the server answered an error or the browser says the transfer
    failed, PageInsteadOfDownload when a page came instead of the file; both at once, rather
    than after the wait for a file that will never come."""
    page = link.page

    def is_page_load(request) -> bool:
        # The link may open a new tab first (target=_blank): any top-level load of the context.
        if not request.is_navigation_request():
            return False
        try:
            return request.frame.parent_frame is None
        except PlaywrightError:   # a new tab's first load: its frame does not exist yet
            return True

    with page.expect_download() as download_info:
        try:
            with page.context.expect_event("request", is_page_load) as request_info:
                link.click()
            answer = final_answer(request_info.value)
        except PlaywrightTimeout:
            answer = None   # a file made by a script, not by a page load: only the download tells
        if answer is not None:
            if answer.status >= 500:
                raise DownloadBroken(f"le serveur a répondu par une erreur HTTP {answer.status}")
            disposition = (answer.headers.get("content-disposition") or "").lower()
            if answer.status >= 400 or (not disposition.startswith("attachment")
                                        and "text/html" in (answer.headers.get("content-type") or "")):
                raise PageInsteadOfDownload(answer.status, answer.url)
    download = download_info.value
    failure = download.failure()
    if failure:
        raise DownloadBroken(failure)
    # The site names the file: one plain name in `folder`. Playwright saves it in a private
    # folder of the bot's; it is then moved into place, never through a link planted there.
    folder = check_dir(folder)
    target = folder / safe_name(download.suggested_filename, default_name)
    staging = private_dir(".telechargement-", near=folder)
    staged = staging / "fichier"
    try:
        download.save_as(staged)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        # Readable by this user only: SACoche's logins files hold passwords.
        placed = place_file(staged, target, private=True)
    except UnsafePath as refused:
        # The only copy of what the site gave (SACoche shows a logins file once): kept, 0700.
        raise UnsafePath(refused.path, refused.what, kept=staged) from None
    except OSError as exc:
        raise OSError(exc.errno, f"{exc.strerror or exc} ; le fichier reçu est gardé dans « {staged} »",
                      str(target)) from None
    shutil.rmtree(staging, ignore_errors=True)
    return placed
