"""Engine rules: no fixed sleeps outside retry.py, the browser is found, retries are bounded."""
from __future__ import annotations

import re

import pytest

from bot.browser import find_browser
from bot.errors import Refused
from bot.retry import RetryAfter, with_retries
from conftest import REPO

FIXED_SLEEP = re.compile(r"time\.sleep\(|wait_for_timeout\(|asyncio\.sleep\(")


def test_no_fixed_sleeps_in_bot_and_flows():
    offenders = []
    for folder in ("bot", "flows"):
        for path in (REPO / folder).rglob("*.py"):
            if path.name == "retry.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if FIXED_SLEEP.search(line.split("#")[0]):
                    offenders.append(f"{path.relative_to(REPO)}:{number}")
    assert offenders == []


def test_the_engine_knows_no_site():
    """No selector, page, flow name or flow-specific key in bot/: titles, labels and the lists
    to handle by hand come from the flows."""
    from flows import FLOWS
    words = ["#connexion_mode_nom", "ajax.php", "administrateur_", "homonym", "sacoche_users_without",
             *(flow.name for flow in FLOWS)]
    for path in (REPO / "bot").rglob("*.py"):
        # The school's config names the flows' options (schools.N.ent_ids.resolve_homonyms…).
        text = path.read_text(encoding="utf-8").replace("resolve_homonyms", "")
        assert [word for word in words if word in text] == [], path


def test_find_browser_prefers_the_configured_path(tmp_path):
    with pytest.raises(Refused, match="browser.executable"):
        find_browser(tmp_path / "no-chromium")
    found = find_browser(None)
    assert found.is_file()


def test_a_headless_run_takes_the_headless_shell_when_installed_and_a_headed_one_never(tmp_path, monkeypatch):
    shell = tmp_path / "chromium-headless-shell"
    monkeypatch.setattr("bot.browser.SYSTEM_HEADLESS_SHELL", shell)
    assert find_browser(None, headless=True) == find_browser(None)   # not installed: the usual browser
    shell.write_text("#!/bin/sh\n")
    shell.chmod(0o644)
    assert find_browser(None, headless=True) != shell                # there but not runnable
    shell.chmod(0o755)
    assert find_browser(None, headless=True) == shell
    assert find_browser(None, headless=False) != shell               # a window needs the full browser
    configured = tmp_path / "my-chromium"
    configured.write_text("#!/bin/sh\n")
    configured.chmod(0o755)
    assert find_browser(configured, headless=True) == configured     # the config always wins


def test_retry_waits_what_the_site_asks_and_gives_up(monkeypatch):
    waits = []
    monkeypatch.setattr("bot.retry.time.sleep", waits.append)
    calls = []

    def always_busy():
        calls.append(1)
        raise RetryAfter(2, "patienter 2s")

    with pytest.raises(RetryAfter):
        with_retries(always_busy, attempts=3, max_wait_s=10, margin_s=0.5)
    assert len(calls) == 3 and waits == [2.5, 2.5]

    answers = iter([RetryAfter(30, "long"), "ok"])

    def busy_then_ok():
        value = next(answers)
        if isinstance(value, Exception):
            raise value
        return value

    waits.clear()
    assert with_retries(busy_then_ok, max_wait_s=5) == "ok" and waits == [5]


def test_flows_command_lists_the_flows(bot):
    result = bot("flows", config=False)
    assert result.code == 0 and "sacoche-auth-mode" in result.stdout


def test_a_zip_fingerprint_is_its_members_not_its_timestamps(tmp_path):
    import zipfile
    from pathlib import Path
    from bot.journal import fingerprint

    def zipped(name: str, content: bytes, when: tuple) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(zipfile.ZipInfo("eleves.xml", date_time=when), content)
        return path

    first = zipped("a.zip", b"<BEE/>", (2026, 9, 1, 8, 0, 0))
    again = zipped("b.zip", b"<BEE/>", (2026, 12, 3, 9, 30, 0))
    other = zipped("c.zip", b"<BEE>x</BEE>", (2026, 9, 1, 8, 0, 0))
    assert first.read_bytes() != again.read_bytes()
    assert fingerprint({"file": first}) == fingerprint({"file": again}) != fingerprint({"file": other})
    plain = tmp_path / "eleves.xml"
    plain.write_bytes(b"<BEE/>")
    assert fingerprint({"file": plain}) not in (fingerprint({"file": first}), fingerprint({"file": tmp_path / "none"}))
    broken = tmp_path / "broken.zip"
    broken.write_bytes(first.read_bytes()[:30])
    assert fingerprint({"file": broken}) != fingerprint({"file": first})


def test_steps_sharing_a_warm_up_have_it_called_once_for_the_first_of_them():
    from bot.flow import Flow
    from bot.runner import _warm_up

    calls = []

    class OneSite(Flow):
        def warm_up(self, ctx):
            calls.append(self.name)

    class OtherSite(Flow):
        def warm_up(self, ctx):
            calls.append(self.name)

    class Failing(Flow):
        def warm_up(self, ctx):
            calls.append(self.name)
            raise Refused("ignored: the step does it all itself")

    def step(kind, name):
        flow = kind()
        flow.name = name
        return flow

    coming = [step(Failing, "f"), step(OneSite, "a1"), step(OtherSite, "b1"), step(OneSite, "a2"),
              step(Flow, "plain"), step(OtherSite, "b2")]
    _warm_up(ctx=None, coming=coming)
    assert calls == ["f", "a1", "b1"]
