#!/usr/bin/env bash
# Installs what the bot, its simulators and its tests need on a fresh Debian machine:
# Chromium from Debian (Playwright cannot download its own browser here), ffmpeg for --video
# (Debian's stands in for Playwright's own build), and the Python package.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
updated=""
apt_install() {
  [ -n "$updated" ] || { $SUDO apt-get update -qq; updated=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then apt_install chromium; fi
if ! command -v ffmpeg >/dev/null 2>&1; then apt_install --no-install-recommends ffmpeg; fi
python3 -m pip install -q --disable-pip-version-check -e '.[test]'
