"""scripts/setup.sh's apt handling, on its functions (the script, sourced) with a fake apt-get:
it waits for another package manager's lock (bounded), keeps apt's output out of sight and
calls apt only for what is missing. No real package is installed; a few seconds in all."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

SETUP = Path(__file__).resolve().parents[1] / "scripts" / "setup.sh"

FAKE_APT = """#!/bin/sh
echo "$*" >> "$FAKE_DIR/calls"
n=$(cat "$FAKE_DIR/count" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$FAKE_DIR/count"
echo "Reading package lists... Done"
case "$FAKE_APT" in
  fail) echo "E: Unable to locate package nope" >&2; exit 100 ;;
  race) if [ "$n" -eq 1 ]; then
          echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 1 (apt-get)" >&2
          exit 100
        fi ;;
esac
"""

HOLD = "import fcntl, os, sys, time\n" \
       "fd = os.open(sys.argv[1], os.O_RDWR)\n" \
       "fcntl.lockf(fd, fcntl.LOCK_EX)\n" \
       "print('held', flush=True)\n" \
       "time.sleep(float(sys.argv[2]))\n"


@pytest.fixture
def fake(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    apt = bindir / "apt-get"
    apt.write_text(FAKE_APT)
    apt.chmod(0o755)
    lock = tmp_path / "lock-frontend"
    lock.touch()
    (tmp_path / "logs").mkdir()
    return tmp_path


def run(fake, body, *, wait=60, mode="ok"):
    script = f"""
source {SETUP}
SUDO=""
APT_LOCKS=({fake / "lock-frontend"})
APT_LOCK_WAIT={wait}
LOG_DIR={fake / "logs"}; APT_LOG="$LOG_DIR/apt.log"
{body}
"""
    env = {**os.environ, "PATH": f"{fake / 'bin'}:{os.environ['PATH']}", "FAKE_DIR": str(fake),
           "FAKE_APT": mode}
    started = time.monotonic()
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                          timeout=120, stdin=subprocess.DEVNULL)
    return done, time.monotonic() - started


def calls(fake):
    path = fake / "calls"
    return path.read_text().splitlines() if path.exists() else []


def hold(fake, seconds):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(fake / "lock-frontend"), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_waits_for_another_package_manager_then_installs_quietly(fake):
    holder = hold(fake, 3)
    try:
        done, took = run(fake, "apt_install chromium")
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 0, done.stderr
    assert "Une autre installation de paquets est en cours (verrou dpkg)" in done.stdout
    assert "attente de sa fin, 1 minute au plus…" in done.stdout
    assert "Reading package lists" not in done.stdout + done.stderr
    assert took >= 2
    assert [c.split(" ", 2)[2] for c in calls(fake)] == ["update", "install -y chromium"]
    assert all(c.startswith("-o DPkg::Lock::Timeout=") for c in calls(fake))


def test_gives_up_in_french_when_the_lock_stays_held(fake):
    holder = hold(fake, 60)
    try:
        done, took = run(fake, "apt_install chromium", wait=2)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 1
    assert "au bout de 2 s, une autre installation de paquets tient encore le verrou dpkg" in done.stderr
    assert took < 30
    assert calls(fake) == []


def test_a_lock_taken_between_check_and_apt_is_waited_for_again(fake):
    done, _ = run(fake, "apt_install chromium", mode="race")
    assert done.returncode == 0, done.stderr
    assert [c.split(" ", 2)[2] for c in calls(fake)] == ["update", "update", "install -y chromium"]


def test_a_failing_apt_says_so_in_french_with_the_end_of_its_log(fake):
    done, _ = run(fake, 'updated=1; apt_install nope || fail "l\'installation par apt de nope a échoué." "$APT_LOG"',
                  mode="fail")
    assert done.returncode == 1
    assert "setup.sh : l'installation par apt de nope a échoué." in done.stderr
    assert "E: Unable to locate package nope" in done.stderr
    assert done.stdout == ""


def test_nothing_missing_means_no_apt_call(fake):
    needed = ["chromium", "ffmpeg", "Xvfb", "xvfb-run", "xauth", "openbox", "xdpyinfo"]
    if not all(shutil.which(c) for c in needed) or not os.access(
            "/usr/lib/chromium/chromium-headless-shell", os.X_OK):
        pytest.skip("this machine lacks one of the system packages")
    done, took = run(fake, "system_packages")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[1/3] Chromium et outils système (ffmpeg, Xvfb, openbox) : déjà installés\n"
    assert calls(fake) == []


def test_a_too_old_python_stops_before_any_install(fake):
    env = {**os.environ, "PATH": f"{fake / 'bin'}:{os.environ['PATH']}", "FAKE_DIR": str(fake),
           "PYTHON": "false"}
    done = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, env=env,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "il faut Python 3.11 ou plus récent" in done.stderr
    assert done.stdout == ""
    assert calls(fake) == []
