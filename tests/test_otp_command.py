"""--otp-command: the operator's passcode tool runs in its own session and is ended with all it
started (timeout, Ctrl-C, SIGTERM); a tool that cannot be run is refused at pre-flight (exit 2,
French, before any request); its environment holds none of the bot's secrets."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import bot.otp as otp
from bot.errors import FlowFailed, Refused
from bot.otp import OtpSource
from bot.secrets import Secret
from conftest import REPO, arena_state, ent_state, sim_state

# Writes its own pid, a child's, a grandchild's (through a subshell) and the subshell's, one a
# line, then "ready", then hangs.
HANGING_TOOL = """#!/bin/sh
echo $$ >> "$1"
sh -c 'sleep 1000 & echo $! >> "$1"; echo inner-ready >> "$1"; wait' sh "$1" &
echo $! >> "$1"
sleep 1000 &
echo $! >> "$1"
until grep -q inner-ready "$1"; do sleep 0.05; done
echo ready >> "$1"
wait
"""

# Prints a code and exits at once, leaving a child that keeps its output open.
LEAVING_TOOL = """#!/bin/sh
sleep 1000 &
echo $! >> "$1"
echo 246810
"""


def tool(tmp_path: Path, text: str, name: str = "otp.sh", mode: int = 0o755) -> tuple[Path, Path]:
    script, pids = tmp_path / name, tmp_path / f"{name}.pids"
    script.write_text(text, encoding="utf-8")
    script.chmod(mode)
    return script, pids


def written_pids(pids: Path) -> list[int]:
    return [int(line) for line in pids.read_text().split() if line.isdigit()] if pids.exists() else []


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for a parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def survivors(pids: list[int], within_s: float = 5.0) -> list[int]:
    """The pids still running once `within_s` has passed (SIGKILL is not instant)."""
    deadline = time.monotonic() + within_s
    while (left := [pid for pid in pids if running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def kill_leftovers(pids: list[int]) -> None:
    # Leftovers of the code under test (before the fix) must not outlive the test.
    for pid in pids:
        if running(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def wait_for_ready(pids: Path, process: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while "ready" not in (pids.read_text().split() if pids.exists() else []):
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the bot ended (exit {process.returncode}) before running the tool:\n{out[-2000:]}{err[-2000:]}")
        assert time.monotonic() < deadline, "the tool was never run"
        time.sleep(0.2)


def assert_refused_before_any_request(sims, result, *words: str) -> None:
    output = result.stdout + result.stderr
    assert result.code == 2, output[-3000:]
    assert "--otp-command" in result.stderr and "Rien n'a été fait sur les sites" in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert "Traceback" not in output and "Erreur interne" not in output, output[-3000:]
    assert arena_state(sims)["requests"] == 0
    assert sim_state(sims)["requests"] == 0 and ent_state(sims)["requests"] == 0


# A tool that hangs, or leaves something behind ----------------------------------------------------
def test_a_hanging_tool_is_ended_at_the_timeout_with_all_it_started(tmp_path, monkeypatch):
    script, pids = tool(tmp_path, HANGING_TOOL)
    monkeypatch.setattr(otp, "COMMAND_TIMEOUT_S", 3)
    started = time.monotonic()
    try:
        with pytest.raises(FlowFailed, match="pas de réponse en 3 s"):
            OtpSource(command=f"{script} {pids}").code("?")
        assert time.monotonic() - started < 3 + 10     # SIGTERM, then SIGKILL after a bounded wait
        assert "ready" in pids.read_text().split()
        found = written_pids(pids)
        assert len(found) == 4
        assert survivors(found) == []
    finally:
        kill_leftovers(written_pids(pids))


def test_the_process_group_is_ended_even_when_its_leader_is_gone(tmp_path):
    # The tool's own process has exited; what it left in its session is still ended.
    script, pids = tool(tmp_path, LEAVING_TOOL)
    process = subprocess.Popen([str(script), str(pids)], stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        process.wait(timeout=30)
        left = written_pids(pids)
        assert left and all(running(pid) for pid in left)
        otp.end_session(process, grace_s=1)
        assert survivors(left) == []
    finally:
        kill_leftovers(written_pids(pids))


def test_a_tool_that_leaves_a_child_behind_gives_its_code_at_once_and_the_child_is_ended(tmp_path, monkeypatch):
    script, pids = tool(tmp_path, LEAVING_TOOL)
    monkeypatch.setattr(otp, "COMMAND_TIMEOUT_S", 20)
    started = time.monotonic()
    try:
        # Before: the bot waited for the child to close the tool's output, i.e. the timeout.
        assert OtpSource(command=f"{script} {pids}").code("?").reveal() == "246810"
        assert time.monotonic() - started < 10
        assert survivors(written_pids(pids)) == []
    finally:
        kill_leftovers(written_pids(pids))


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_run_ends_the_tool_and_all_it_started(sims, arena_school, tmp_path, how):
    script, pids = tool(tmp_path, HANGING_TOOL)
    command = [sys.executable, "-m", "bot", "run", "arena-exports", "--school", "123", "--otp-command",
               f"{script} {pids}", "--config", str(arena_school.config_path)]
    process = subprocess.Popen(command, cwd=REPO, env=arena_school.env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_ready(pids, process)
        found = written_pids(pids)
        assert len(found) == 4 and all(running(pid) for pid in found)
        process.send_signal(how)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 130, out[-2000:] + err[-2000:]
        assert "Interrompu" in err and "Traceback" not in err
        assert survivors(found) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        kill_leftovers(written_pids(pids))


# A tool that cannot be run: refused at pre-flight ------------------------------------------------
def test_a_tool_without_the_executable_bit_is_refused_before_any_request(sims, arena_school, tmp_path):
    script, _ = tool(tmp_path, "#!/bin/sh\necho 123456\n", mode=0o644)
    result = arena_school("run", "arena-exports", "--school", "123", "--otp-command", str(script))
    assert_refused_before_any_request(sims, result, f"« {script} »", "n'est pas exécutable", "chmod +x")


def test_unbalanced_quotes_are_refused_before_any_request(sims, arena_school, tmp_path):
    script, _ = tool(tmp_path, "#!/bin/sh\necho 123456\n")
    result = arena_school("run", "arena-exports", "--school", "123", "--otp-command", f"sh '{script}")
    assert_refused_before_any_request(sims, result, "guillemet")


@pytest.mark.parametrize("program", ["/nonexistent/otp-tool", "otp-tool-that-is-nowhere"])
def test_a_program_that_does_not_exist_is_refused_before_any_request(sims, arena_school, program):
    result = arena_school("run", "arena-exports", "--school", "123", "--otp-command", f"{program} --totp")
    assert_refused_before_any_request(sims, result, f"« {program} »", "introuvable")


# The same checks without a browser ---------------------------------------------------------------
@pytest.mark.parametrize("kind, shown", [
    ("directory", "est un dossier"),
    ("no shebang", "première ligne"),
    ("missing interpreter", "« /nonexistent/python9 »"),
    ("crlf", "Windows"),
    ("quotes", "guillemet"),
    ("trailing backslash", "guillemet"),
    ("empty", "commande vide"),
])
def test_check_usable_refuses_what_cannot_be_run(tmp_path, kind, shown):
    scripts = {"no shebang": "echo 123456\n", "missing interpreter": "#!/nonexistent/python9\nprint(1)\n",
               "crlf": "#!/bin/sh\r\necho 123456\r\n"}
    if kind == "directory":
        command = str(tmp_path)
    elif kind in scripts:
        command = str(tool(tmp_path, scripts[kind])[0])
    else:
        command = {"quotes": 'sh "/x/otp.sh', "trailing backslash": "sh /x/otp.sh \\", "empty": "  "}[kind]
    with pytest.raises(Refused) as refusal:
        OtpSource(command=command).check_usable("La connexion à ARENA")
    assert shown in refusal.value.message and "--otp-command" in refusal.value.message
    assert "Rien n'a été fait sur les sites" in refusal.value.message


def test_a_usable_tool_passes_the_check(tmp_path):
    script, _ = tool(tmp_path, "#!/bin/sh\necho 123456\n")
    OtpSource(command=f"{script} --totp").check_usable("La connexion")
    OtpSource(command=f"sh {script}").check_usable("La connexion")      # found in the PATH
    assert OtpSource(command=str(script)).code("?").reveal() == "123456"


def test_a_tool_that_became_unusable_after_the_check_is_refused_in_french(tmp_path):
    script, _ = tool(tmp_path, "#!/bin/sh\necho 123456\n", mode=0o644)
    with pytest.raises(Refused) as refusal:
        OtpSource(command=str(script)).code("?")
    assert "n'est pas exécutable" in refusal.value.message and "--otp-command" in refusal.value.message


def test_a_failing_or_silent_tool_says_so_without_its_output(tmp_path):
    with pytest.raises(FlowFailed) as failure:
        OtpSource(command=f"{sys.executable} -c \"print('654321'); raise SystemExit(4)\"").code("?")
    assert "code de sortie 4" in failure.value.message and "654321" not in failure.value.message
    with pytest.raises(FlowFailed, match="aucune sortie"):
        OtpSource(command="true").code("?")


def test_the_tool_sees_none_of_the_bots_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("SOME_TOOL_SETTING", "visible")
    monkeypatch.setenv("LEAKED_PASSWORD", "s3cr3t-of-the-bot-4711")
    Secret("s3cr3t-of-the-bot-4711")   # a password the bot has read
    code = OtpSource(command=f"{sys.executable} -c \"import os; print(os.environ.get('SOME_TOOL_SETTING'), "
                             f"os.environ.get('LEAKED_PASSWORD'))\"").code("?")
    assert code.reveal() == "visible None"


def test_the_lock_never_shows_the_passcode_tool_s_command():
    """The lock names the running command for the next run to show: a passcode tool's command
    line may hold its seed, so its value is hidden, in both spellings."""
    from bot.lock import _shown_command
    assert _shown_command(["bot", "run", "arena-exports", "--otp-command", "oathtool --totp -b SEED", "--school", "1"]) \
        == ["bot", "run", "arena-exports", "--otp-command", "***", "--school", "1"]
    assert _shown_command(["bot", "--otp-command=oathtool -b SEED"]) == ["bot", "--otp-command=***"]


def test_a_batch_interruption_ends_a_tool_waited_for_in_a_worker_thread(tmp_path):
    """In a batch (--parallel) Ctrl-C reaches the main thread only: the runner sets
    bot.interrupt.STOP, and a worker waiting for its passcode tool ends it at once, with all it
    started, instead of at the tool's 60 s timeout."""
    import threading
    from bot import interrupt
    script, pids = tool(tmp_path, HANGING_TOOL)
    outcome: list[BaseException] = []

    def worker() -> None:
        try:
            otp.run_tool([str(script), str(pids)], timeout_s=60)
        except BaseException as ended:   # handed back to the test's thread
            outcome.append(ended)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while len(written_pids(pids)) < 4:
            assert time.monotonic() < deadline, "l'outil n'a pas démarré"
            time.sleep(0.05)
        found = written_pids(pids)
        interrupt.STOP.set()
        thread.join(timeout=10)
        assert not thread.is_alive(), "l'attente de l'outil ne s'est pas arrêtée"
        assert outcome and isinstance(outcome[0], KeyboardInterrupt)
        assert survivors(found) == []
    finally:
        interrupt.STOP.clear()
        kill_leftovers(written_pids(pids))
