"""What the operator sees: progress lines in the terminal, and in headed mode a banner in the
page naming the current step and an outline on the element about to be clicked; `--step`
pauses until the operator presses Entrée."""
from __future__ import annotations

import sys
import threading
from typing import Callable

from .secrets import redact
from .text import visible

# The banner sits at the bottom of the window, above everything the page draws. Its lowest band
# holds no text: Chromium draws the address of a hovered link (its status bubble, outside the
# page's reach) over the bottom-left corner of the window, and there it covers only that band.
# Plain text and a drawn label, no emoji: the set-up installs no emoji font.
BANNER_HOVER_BAND_PX = 26
BANNER_SCRIPT = """
(() => {
  const show = (text) => {
    if (!document.documentElement) { return; }
    let banner = document.getElementById('sacoche-bot-banner');
    if (!banner) {
      banner = document.createElement('div');
      banner.id = 'sacoche-bot-banner';
      banner.setAttribute('role', 'status');
      banner.setAttribute('style', 'position:fixed;left:0;right:0;bottom:0;z-index:2147483647;margin:0;' +
        'background:#1d3557;color:#fff;font:bold 15px/1.4 sans-serif;text-align:left;' +
        'padding:7px 14px;border-bottom:%(band)dpx solid #14263f;' +
        'pointer-events:none;box-shadow:0 -2px 6px rgba(0,0,0,.3)');
      const tag = document.createElement('span');
      tag.textContent = 'ROBOT';
      tag.setAttribute('style', 'background:#f4d35e;color:#1d3557;border-radius:3px;padding:1px 6px;' +
        'margin-right:10px;font:bold 12px/1.4 sans-serif;letter-spacing:.05em');
      const line = document.createElement('span');
      line.id = 'sacoche-bot-banner-text';
      banner.append(tag, line);
      document.documentElement.appendChild(banner);
      document.documentElement.style.scrollPaddingBottom = (banner.offsetHeight + 8) + 'px';
    }
    banner.lastChild.textContent = text;
  };
  window.__sacocheBotShow = show;
  const ask = () => window.__sacocheBotBanner && window.__sacocheBotBanner().then(t => t && show(t));
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', ask); } else { ask(); }
})();
""".replace("%(band)d", str(BANNER_HOVER_BAND_PX))
HIGHLIGHT = "el => { el.style.outline = '4px solid #e76f51'; el.style.outlineOffset = '2px'; }"


def ask_on_stderr(prompt: str) -> str:
    """Like input(), but the prompt goes to stderr: stdout stays clean for --json."""
    print(prompt, end="", file=sys.stderr, flush=True)
    return sys.stdin.readline()


class Console:
    def __init__(self, quiet: bool = False, headed: bool = False, step_mode: str | None = None,
                 prefix: str = "", ask: Callable[[str], str] | None = None, out=None):
        self.quiet = quiet
        self.headed = headed
        self.step_mode = step_mode          # None, "flow" or "fine"
        self.prefix = prefix
        self.ask = ask or ask_on_stderr
        self.out = out or sys.stderr
        self.banner = ""
        self.flow_label = ""
        self._lock = threading.Lock()
        self._contexts: list = []   # headed: every context shown, so every open page follows the banner

    def say(self, message: str) -> None:
        if not self.quiet:
            with self._lock:
                print(visible(redact(f"{self.prefix}{message}")), file=self.out, flush=True)

    def attach(self, context) -> None:
        """Headed mode: every page of the context shows the banner, across navigations."""
        if self.headed:
            context.expose_binding("__sacocheBotBanner", lambda source: self.banner)
            context.add_init_script(BANNER_SCRIPT)
            self._contexts.append(context)
            context.on("close", lambda closed: self._contexts.remove(closed) if closed in self._contexts else None)

    def stage(self, text: str) -> None:
        """What the run does between steps (a site's pages checked before its first step)."""
        self.flow_label = ""
        self._show(text, None)

    def flow(self, number: int, total: int, title: str, page=None) -> None:
        self.flow_label = f"Étape {number}/{total} — {title}"
        self.say(f"[{number}/{total}] {title}…")
        self._show(self.flow_label, page)
        if self.step_mode:
            self.pause(f"Prochaine étape : {self.flow_label}.")

    def step(self, text: str, page=None, target=None) -> None:
        """A sub-step of the current flow (e.g. a wizard step), with what is about to be clicked."""
        self._show(f"{self.flow_label} : {text}" if self.flow_label else text, page)
        if self.headed and target is not None:
            try:
                target.evaluate(HIGHLIGHT)
            except Exception:   # highlighting is a courtesy; it must never break a run
                pass
        if self.step_mode == "fine":
            self.pause(f"{text}.")

    def pause(self, text: str) -> None:
        with self._lock:
            self.ask(redact(f"{self.prefix}{text} Appuyez sur Entrée pour continuer… "))

    def _show(self, text: str, page) -> None:
        """The banner of every open page says `text` (a login page opened aside, another
        person's window for the SSO check); pages opened later ask for it as they load."""
        self.banner = text
        if not self.headed:
            return
        pages = [page] if page is not None else []
        pages += [other for context in list(self._contexts) for other in context.pages if other is not page]
        for shown in pages:
            try:
                shown.evaluate("t => window.__sacocheBotShow && window.__sacocheBotShow(t)", text)
            except Exception:   # a page closing or between two documents: it asks when it loads
                pass
