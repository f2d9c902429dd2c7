"""Headed mode as support staff see it: a real Chromium window on a 1366x768 screen (Xvfb, with
Debian's openbox as window manager), the step banner in view on every page the run opens, and
no Chromium bubble drawn over the page. Xvfb, openbox and ffmpeg come with scripts/setup.sh."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.browser import BrowserSession
from bot.config import BrowserConfig
from bot.console import BANNER_HOVER_BAND_PX, Console
from conftest import REPO, ent_state, sim_state

SCREEN = (1366, 768)


@pytest.fixture(scope="module")
def display():
    """A 1366x768 X screen with a window manager, as on an ordinary laptop."""
    missing = [tool for tool in ("Xvfb", "openbox", "xprop", "ffmpeg") if shutil.which(tool) is None]
    assert not missing, f"{missing} manquent : « bash scripts/setup.sh » les installe"
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
                               "-nolisten", "tcp"], pass_fds=[write_end],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as numbers:
        name = f":{numbers.readline().strip()}"
    environment = {**os.environ, "DISPLAY": name}
    manager = subprocess.Popen(["openbox"], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while "window id" not in subprocess.run(["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], env=environment,
                                            capture_output=True, text=True).stdout:
        assert time.monotonic() < deadline, "openbox n'a pas pris l'écran en 20 s"
        time.sleep(0.1)
    yield name
    for process in (manager, server):
        process.terminate()
        process.wait(timeout=10)


# Every context the bot's Chromium opens gets a probe: after each page load, once the banner has
# its text, the page reports where the banner is, whether anything covers it, and its window.
PROBE = """
(() => {
  if (window.top !== window) { return; }
  const measure = () => {
    const banner = document.getElementById('sacoche-bot-banner');
    const record = {url: location.href, inner: [innerWidth, innerHeight], banner: !!banner};
    if (banner) {
      const box = banner.getBoundingClientRect();
      const line = document.getElementById('sacoche-bot-banner-text');
      const textBox = line.getBoundingClientRect();
      const style = getComputedStyle(banner);
      // The banner lets clicks through; to ask what is on top, it takes them for one instant.
      banner.style.pointerEvents = 'auto';
      const onTop = [[textBox.left + 5, textBox.top + textBox.height / 2],
                     [box.right - 5, box.top + 3], [box.left + 5, box.bottom - 3]]
        .every(([x, y]) => banner.contains(document.elementFromPoint(x, y)));
      banner.style.pointerEvents = 'none';
      Object.assign(record, {box: [box.left, box.top, box.right, box.bottom], text: line.textContent,
        textBottom: textBox.bottom, onTop,
        shown: style.display !== 'none' && style.visibility === 'visible' && style.opacity === '1'});
    }
    window.__headedProbe(record);
  };
  const whenWritten = (frames) => {
    const line = document.getElementById('sacoche-bot-banner-text');
    if ((line && line.textContent) || frames > 180) { measure(); } else { requestAnimationFrame(() => whenWritten(frames + 1)); }
  };
  addEventListener('load', () => whenWritten(0));
})();
"""

PROBED_BOT = """
import json, runpy, sys, time
from playwright.sync_api._generated import Browser, BrowserType
log = open(sys.argv.pop(1), "a", buffering=1)
PROBE = {probe!r}

def note(record):
    log.write(json.dumps({{**record, "at": time.monotonic()}}) + "\\n")

def watch(context):
    context.expose_binding("__headedProbe", lambda source, record: note({{**record, "context": id(source["context"])}}))
    context.add_init_script(PROBE)
    def follow(page):
        page.on("load", lambda loaded: note({{"loaded": loaded.url, "context": id(context)}}))
    for page in context.pages:
        follow(page)
    context.on("page", follow)
    return context

new_context, persistent = Browser.new_context, BrowserType.launch_persistent_context
Browser.new_context = lambda self, *args, **kwargs: watch(new_context(self, *args, **kwargs))
BrowserType.launch_persistent_context = lambda self, *args, **kwargs: watch(persistent(self, *args, **kwargs))
sys.argv = ["bot", *sys.argv[1:]]
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""


def test_full_onboarding_headed_shows_the_banner_on_every_page(display, school, sims, tmp_path):
    probe_log = tmp_path / "probe.jsonl"
    runner = tmp_path / "probed_bot.py"
    runner.write_text(PROBED_BOT.format(probe=PROBE), encoding="utf-8")
    done = subprocess.run([sys.executable, str(runner), str(probe_log), "full-onboarding", "--school", "123",
                           "--headed", "--config", str(school.config_path)],
                          capture_output=True, text=True, cwd=REPO, env={**school.env, "DISPLAY": display}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    # The run did its work on the sites (the headed browser is the same bot).
    state = sim_state(sims)
    assert sum(1 for user in state["schools"]["123"]["users"] if user["id_ent"]) > 100
    assert state["logins"]["cas"] == len(school.config_data["schools"]["123"]["sso_check"])
    sacoche_app = next(app for app in ent_state(sims)["apps"] if app["kind"] == "sacoche")
    assert {row["value"] for row in sacoche_app["links"]} == {"123"}

    records = [json.loads(line) for line in probe_log.read_text(encoding="utf-8").splitlines()]
    loads = [record for record in records if "loaded" in record and record["loaded"].startswith("http")]
    seen = [record for record in records if "url" in record]
    assert len(loads) > 20, loads
    # Every page load of every context reported a banner (a context the bot forgot would not),
    # except a page the bot left at once (SACoche's home page after the login): the probe
    # measures once the banner has its text, and such a page is gone before.
    left_at_once = 0
    for number, load in enumerate(loads):
        if any(record["url"] == load["loaded"] and record["context"] == load["context"] and record["banner"]
               for record in seen):
            continue
        following = next((later for later in loads[number + 1:] if later["context"] == load["context"]), None)
        assert following is not None and following["at"] - load["at"] < 1.5, f"pas de bandeau sur {load['loaded']}"
        left_at_once += 1
    assert left_at_once <= len(loads) // 5, (left_at_once, len(loads))
    for record in seen:
        width, height = record["inner"]
        assert record["banner"], record["url"]
        # The window takes the screen: nothing cut at the right, nothing below the screen.
        assert SCREEN[0] - 8 <= width <= SCREEN[0] and 500 < height < SCREEN[1], record
        left, top, right, bottom = record["box"]
        assert 0 <= left and right <= width and 0 <= top and bottom <= height, record
        assert record["shown"] and record["onTop"], record
        assert record["text"].strip(), record
        # Chromium's hovered-link bubble covers the window's bottom band only: the text is above it.
        assert record["textBottom"] <= height - BANNER_HOVER_BAND_PX, record
        assert "\U0001f916" not in record["text"]
    contexts = {record["context"] for record in seen}
    assert len(contexts) >= 5, "le contexte principal, la connexion privée et les trois utilisateurs de l'ENT"
    sso_pages = [record for record in seen if "Vérification" in record["text"] and sims.sacoche_url in record["url"]]
    assert len({record["context"] for record in sso_pages}) >= 3, sso_pages
    assert {sims.sacoche_url, sims.ent_url} <= {record["url"][:len(sims.sacoche_url)] for record in seen} | \
        {record["url"][:len(sims.ent_url)] for record in seen}


def _raw_rgb(source: bytes | str, display: str | None = None) -> bytes:
    """Pixels as RGB bytes: of a PNG, or of the whole X screen `display` (mouse pointer left out)."""
    if display is not None:
        command = ["ffmpeg", "-loglevel", "error", "-f", "x11grab", "-draw_mouse", "0",
                   "-video_size", f"{SCREEN[0]}x{SCREEN[1]}", "-i", display, "-frames:v", "1"]
        given = None
    else:
        command, given = ["ffmpeg", "-loglevel", "error", "-i", "pipe:0"], source
    command += ["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    return subprocess.run(command, input=given, capture_output=True, check=True, timeout=60).stdout


def _share_of_pixels_not_the_page(page, display: str) -> float:
    """Compare the screen with what the page itself draws, over the window's page area (its
    bottom band left out: Chromium's hovered-link bubble may stand there): a bubble of
    Chromium's, an infobar, a prompt over the page show up as pixels that are not the page's."""
    screen = _raw_rgb(b"", display)
    window = page.evaluate("() => [screenX, screenY, outerWidth, outerHeight, innerWidth, innerHeight]")
    screen_x, screen_y, outer_width, outer_height, width, height = window
    left, top = screen_x + (outer_width - width), screen_y + (outer_height - height)
    drawn = _raw_rgb(page.screenshot())
    assert len(drawn) == width * height * 3
    compared = different = 0
    for y in range(0, height - 40, 2):
        for x in range(0, width, 2):
            at_screen, at_page = ((top + y) * SCREEN[0] + left + x) * 3, (y * width + x) * 3
            compared += 1
            if max(abs(screen[at_screen + i] - drawn[at_page + i]) for i in range(3)) > 40:
                different += 1
    return different / compared


DOWNLOAD_LINK = """() => {
  const link = document.createElement('a');
  link.id = 'probe-download'; link.textContent = 'Télécharger l\\'export';
  link.href = 'data:text/csv;charset=utf-8,' + encodeURIComponent('Nom;Prénom\\nDUPONT;Marie\\n');
  link.download = 'export.csv';
  document.body.prepend(link);
}"""


def test_no_chromium_bubble_over_the_page_after_downloads(display, sims, tmp_path, monkeypatch):
    """The headed browser's own UI stays quiet: no downloads bubble after a file is saved, no
    offer to translate SACoche's French page, in the run's window and in another person's."""
    monkeypatch.setenv("DISPLAY", display)
    # In a thread of its own, as the bot runs a school: pytest-playwright's own session keeps an
    # event loop in this one, where Playwright's sync API refuses to start.
    failures: list[BaseException] = []

    def check() -> None:
        try:
            _check_no_bubble(display, sims, tmp_path)
        except BaseException as failure:   # handed back to the test's thread
            failures.append(failure)

    worker = threading.Thread(target=check)
    worker.start()
    worker.join(timeout=300)
    assert not worker.is_alive(), "la vérification n'a pas fini en 5 min"
    if failures:
        raise failures[0]


def _check_no_bubble(display: str, sims, tmp_path: Path) -> None:
    console = Console(headed=True, out=open(os.devnull, "w"))
    with BrowserSession(BrowserConfig(), tmp_path / "downloads", headed=True, prepare_context=console.attach) as session:
        console.stage("Vérification des pages de SACoche, avant toute écriture")
        for page, address in ((session.page, f"{sims.sacoche_url}index.php?base=123&mode=normal"),
                              (session.isolated_page(), sims.ent_url)):
            page.bring_to_front()
            page.goto(address)
            page.evaluate(DOWNLOAD_LINK)
            with page.expect_download() as download:
                page.click("#probe-download")
            assert Path(download.value.path()).read_text(encoding="utf-8").startswith("Nom;Prénom")
            page.mouse.move(SCREEN[0] // 2, 10)   # no hovered link
            # Chromium's bubbles are white and grey: on a coloured page each of them stands out.
            page.evaluate("() => { for (const e of [document.documentElement, document.body]) "
                          "e.style.setProperty('background', '#b03cc8', 'important'); }")
            time.sleep(2)                          # Chromium opens its bubbles within a second
            share = _share_of_pixels_not_the_page(page, display)
            print(f"{address}: {share:.5f}")
            assert share < 0.002, address
            words = page.evaluate("() => navigator.language")
            assert words.startswith("fr"), words


@pytest.mark.parametrize("display_variable", ["", ":4242"], ids=["sans-DISPLAY", "serveur-X-absent"])
def test_headed_without_a_display_says_so(bot_with_password, sims, display_variable):
    """No display (none named, or one that does not answer): the message names the display
    and the ways to run, not Chromium; nothing is touched on the sites."""
    result = bot_with_password("run", "sacoche-auth-mode", "--school", "123", "--headed",
                               env={"DISPLAY": display_variable, "WAYLAND_DISPLAY": ""})
    assert result.code == 2, result.stderr
    assert "pas d'affichage graphique" in result.stderr and "xvfb-run" in result.stderr, result.stderr
    assert "Chromium (apt-get" not in result.stderr and "Traceback" not in result.stderr
    assert sim_state(sims)["requests"] == 0
