#!/usr/bin/env bash
# Installs what the bot, its simulators and its tests need on a fresh Debian machine:
# Chromium from Debian (Playwright cannot download its own browser here) with its headless shell,
# ffmpeg for --video (Debian's stands in for Playwright's own build), and the Python package with
# its test tools in a virtual environment, .venv/ (Debian's own python3 refuses system-wide pip installs, PEP 668).
# Run it again at will: what is already there is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
updated=""
apt_install() {
  [ -n "$updated" ] || { $SUDO apt-get update -qq; updated=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then apt_install chromium; fi
# The headless shell runs headless work on half the processor time; without it (a distribution
# that lacks the package) the full Chromium does the same work, slower.
if [ ! -x /usr/lib/chromium/chromium-headless-shell ]; then
  apt_install chromium-headless-shell || echo "setup.sh : chromium-headless-shell non installé ; Chromium complet utilisé." >&2
fi
if ! command -v ffmpeg >/dev/null 2>&1; then apt_install --no-install-recommends ffmpeg; fi

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup.sh : il faut Python 3.11 ou plus récent ($PYTHON : $("$PYTHON" --version 2>&1))." >&2
  exit 2
fi
# A venv made by another Python (or half made) is rebuilt, not patched.
if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import sys' >/dev/null 2>&1; then rm -rf .venv; fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv >/dev/null 2>&1; then
    # Debian ships venv's pip bootstrap (ensurepip) in a separate package.
    rm -rf .venv
    minor="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    apt_install "python${minor}-venv"
    "$PYTHON" -m venv .venv
  fi
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
