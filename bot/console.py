"""What the operator sees: progress lines in the terminal, and in headed mode a banner in the
page naming the current step and an outline on the element about to be clicked; `--step`
pauses until the operator presses Entrée."""
from __future__ import annotations

import sys
import threading
from typing import Callable

from .secrets import redact
from .text import visible

BANNER_SCRIPT = """
(() => {
  const show = (text) => {
    if (!document.documentElement) { return; }
    let banner = document.getElementById('sacoche-bot-banner');
    if (!banner) {
      banner = document.createElement('div');
      banner.id = 'sacoche-bot-banner';
      banner.setAttribute('style', 'position:fixed;left:0;right:0;bottom:0;z-index:2147483647;' +
        'background:#1d3557;color:#fff;font:bold 15px sans-serif;padding:8px 14px;' +
        'pointer-events:none;box-shadow:0 -2px 6px rgba(0,0,0,.3)');
      document.documentElement.appendChild(banner);
    }
    banner.textContent = '🤖 ' + text;
  };
  window.__sacocheBotShow = show;
  const ask = () => window.__sacocheBotBanner && window.__sacocheBotBanner().then(t => t && show(t));
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', ask); } else { ask(); }
})();
"""
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

    def say(self, message: str) -> None:
        if not self.quiet:
            with self._lock:
                print(visible(redact(f"{self.prefix}{message}")), file=self.out, flush=True)

    def attach(self, context) -> None:
        """Headed mode: every page of the context shows the banner, across navigations."""
        if self.headed:
            context.expose_binding("__sacocheBotBanner", lambda source: self.banner)
            context.add_init_script(BANNER_SCRIPT)

    def flow(self, number: int, total: int, title: str, page=None) -> None:
        self.flow_label = f"Étape {number}/{total} — {title}"
        self.say(f"[{number}/{total}] {title}…")
        self._show(self.flow_label, page)
        if self.step_mode:
            self.pause(f"Prochaine étape : {self.flow_label}.")

    def step(self, text: str, page=None, target=None) -> None:
        """A sub-step of the current flow (e.g. a wizard step), with what is about to be clicked."""
        self._show(f"{self.flow_label} : {text}", page)
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
        self.banner = text
        if self.headed and page is not None:
            try:
                page.evaluate("t => window.__sacocheBotShow && window.__sacocheBotShow(t)", text)
            except Exception:
                pass
