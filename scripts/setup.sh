#!/usr/bin/env bash
# Installs what the bot, its simulators and its tests need on a fresh Debian machine:
# Chromium from Debian (Playwright cannot download its own browser here) with its headless shell,
# ffmpeg for --video (Debian's stands in for Playwright's own build), Xvfb, xauth, openbox and
# x11-utils for the headed-mode tests (a virtual display with a window manager), and the Python
# package with its test tools in a virtual environment, .venv/ (Debian's own python3 refuses
# system-wide pip installs, PEP 668).
# Run it again at will: what is already there is kept, and apt is not even called.
# apt and pip write to a log under /tmp, shown (its end) only when something fails.
set -euo pipefail

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
# Longest wait for another apt/dpkg (an install, or unattended-upgrades on a freshly booted machine).
APT_LOCK_WAIT=600
# apt-get's DPkg::Lock::Timeout only covers the two dpkg locks: `apt-get update` and the download
# step fail at once on the lists and archives locks, so the script waits for all four itself.
APT_LOCKS=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock)
LOG_DIR=""
updated=""
venv_state=""

# "10 minutes" or "45 s", for the messages.
duration() {
  if [ "$1" -eq 60 ]; then echo "1 minute"
  elif [ "$1" -gt 60 ] && [ $(( $1 % 60 )) -eq 0 ]; then echo "$(( $1 / 60 )) minutes"
  else echo "$1 s"; fi
}

# Prints a French message, then the end of a log, and stops.
fail() {
  echo "setup.sh : $1" >&2
  if [ -n "${2:-}" ] && [ -s "$2" ]; then
    echo "--- fin du journal $2 :" >&2
    tail -n 25 "$2" >&2
  fi
  exit 1
}

# True while another process holds one of the locks. apt and dpkg lock with fcntl, which flock(1)
# cannot see; F_GETLK only asks, since taking a lock even briefly could make a real apt-get fail.
# Without python3 it says "free", and apt's own timeout plus apt_get's retries do the waiting.
# $SUDO: the lock files are readable by root only.
apt_locks_held() {
  command -v python3 >/dev/null 2>&1 || return 1
  $SUDO python3 - "${APT_LOCKS[@]}" <<'EOF'
import fcntl, os, struct, sys
for path in sys.argv[1:]:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        continue
    try:
        # struct flock: l_type, l_whence, l_start, l_len, l_pid (padded: the kernel may write more).
        asked = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0) + bytes(16)
        if struct.unpack_from("h", fcntl.fcntl(fd, fcntl.F_GETLK, asked))[0] != fcntl.F_UNLCK:
            sys.exit(0)
    finally:
        os.close(fd)
sys.exit(1)
EOF
}

# Waits until no other apt/dpkg holds a lock; stops the script once $1 (epoch seconds) has passed.
wait_for_apt_locks() {
  local said=""
  while apt_locks_held; do
    if [ -z "$said" ]; then
      echo "      Une autre installation de paquets est en cours (verrou dpkg) : attente de sa fin, $(duration "$APT_LOCK_WAIT") au plus…"
      said=1
    fi
    if [ "$(date +%s)" -ge "$1" ]; then
      fail "au bout de $(duration "$APT_LOCK_WAIT"), une autre installation de paquets tient encore le verrou dpkg. Relancez ce script quand elle sera finie (pour la voir : pgrep -a 'apt|dpkg')."
    fi
    sleep 2
  done
}

# apt-get "$@", its output into the log only, after waiting (bounded) for other package managers.
apt_get() {
  local deadline=$(( $(date +%s) + APT_LOCK_WAIT )) left rc
  local out="$LOG_DIR/apt-last.log"
  while :; do
    wait_for_apt_locks "$deadline"
    left=$(( deadline - $(date +%s) )); [ "$left" -gt 0 ] || left=1
    rc=0
    # env, not a plain assignment: sudo drops the caller's variables. LC_ALL=C keeps apt's
    # messages greppable below.
    $SUDO env LC_ALL=C DEBIAN_FRONTEND=noninteractive \
      apt-get -o DPkg::Lock::Timeout="$left" "$@" >"$out" 2>&1 </dev/null || rc=$?
    cat "$out" >>"$APT_LOG"
    [ "$rc" -ne 0 ] || return 0
    # Another apt took a lock between the check and this call: wait again, within the same bound.
    if grep -q -e 'Could not get lock' -e 'Unable to lock' "$out"; then
      [ "$(date +%s)" -lt "$deadline" ] && continue
      fail "au bout de $(duration "$APT_LOCK_WAIT"), une autre installation de paquets tient encore le verrou dpkg. Relancez ce script quand elle sera finie (pour la voir : pgrep -a 'apt|dpkg')." "$APT_LOG"
    fi
    return "$rc"
  done
}

apt_install() {
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null 2>&1; then
    fail "il faut installer des paquets Debian ($*) : lancez ce script en root, ou installez sudo."
  fi
  if [ -z "$updated" ]; then
    apt_get update || fail "la mise à jour de la liste des paquets Debian (apt-get update) a échoué." "$APT_LOG"
    updated=1
  fi
  apt_get install -y "$@"
}

# Stage 1: only what is missing, decided by files on disk (CI runs this each time; apt-get update
# alone costs seconds to minutes).
system_packages() {
  local browser=() optional=() tools=()
  command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || browser+=(chromium)
  # The headless shell runs headless work on half the processor time; without it (a distribution
  # that lacks the package) the full Chromium does the same work, slower.
  [ -x /usr/lib/chromium/chromium-headless-shell ] || optional+=(chromium-headless-shell)
  # Chromium's own words (menus, prompts) in French in the headed window a person watches.
  [ -f /usr/lib/chromium/locales/fr.pak ] || tools+=(chromium-l10n)
  command -v ffmpeg >/dev/null 2>&1 || tools+=(ffmpeg)
  { command -v Xvfb && command -v xvfb-run; } >/dev/null 2>&1 || tools+=(xvfb)
  # xvfb-run needs xauth (only a recommendation of xvfb, and recommendations are not installed).
  command -v xauth >/dev/null 2>&1 || tools+=(xauth)
  command -v openbox >/dev/null 2>&1 || tools+=(openbox)
  command -v xdpyinfo >/dev/null 2>&1 || tools+=(x11-utils)
  local missing=("${browser[@]}" "${optional[@]}" "${tools[@]}")
  if [ ${#missing[@]} -eq 0 ]; then
    echo "[1/3] Chromium et outils système (ffmpeg, Xvfb, openbox) : déjà installés"
    return 0
  fi
  echo "[1/3] Chromium et outils système : installation par apt de ${missing[*]} (quelques minutes)…"
  if [ ${#browser[@]} -gt 0 ] || [ ${#optional[@]} -gt 0 ]; then
    if ! apt_install "${browser[@]}" "${optional[@]}"; then
      [ ${#optional[@]} -gt 0 ] || fail "l'installation de Chromium par apt a échoué." "$APT_LOG"
      echo "setup.sh : chromium-headless-shell non installé ; Chromium complet utilisé." >&2
      [ ${#browser[@]} -eq 0 ] || apt_install "${browser[@]}" \
        || fail "l'installation de Chromium par apt a échoué." "$APT_LOG"
    fi
  fi
  # No recommendations: packages the tests never use (openbox would bring obconf and scrot).
  if [ ${#tools[@]} -gt 0 ]; then
    apt_install --no-install-recommends "${tools[@]}" \
      || fail "l'installation par apt de ${tools[*]} a échoué." "$APT_LOG"
  fi
}

# Stage 2. A venv made by another Python (or half made) is rebuilt, not patched.
virtual_env() {
  local version what="déjà prêt"
  version="$("$PYTHON" -c 'import platform; print(platform.python_version())')"
  if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import sys' >/dev/null 2>&1; then
    rm -rf .venv
    what="refait (l'ancien était inachevé ou fait par un autre Python)"
  elif [ ! -x .venv/bin/python ]; then
    what="création"
  fi
  echo "[2/3] Environnement virtuel .venv (Python $version) : $what"
  venv_state="$what"
  [ -x .venv/bin/python ] && return 0
  if ! "$PYTHON" -m venv .venv >"$LOG_DIR/venv.log" 2>&1; then
    # Debian ships venv's pip bootstrap (ensurepip) in a separate package.
    rm -rf .venv
    apt_install "python${version%.*}-venv" \
      || fail "l'installation par apt de python${version%.*}-venv a échoué." "$APT_LOG"
    "$PYTHON" -m venv .venv >"$LOG_DIR/venv.log" 2>&1 \
      || fail "la création de l'environnement virtuel .venv a échoué." "$LOG_DIR/venv.log"
  fi
}

# Stage 3. pip's output (this machine's pip configuration adds a warning per ignored index
# location) goes to the log.
python_packages() {
  local what="mise à jour dans .venv"
  [ "$1" = "déjà prêt" ] || what="installation dans .venv (une minute environ)"
  echo "[3/3] Paquets Python (bot, simulateurs, outils de test) : $what…"
  .venv/bin/python -m pip install --disable-pip-version-check -e '.[test]' >"$PIP_LOG" 2>&1 </dev/null \
    || fail "l'installation des paquets Python dans .venv a échoué." "$PIP_LOG"
}

# Sourced (by tests/test_setup_script.py): the functions only.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0

cd "$(dirname "$0")/.."
started=$(date +%s)
# Checked first: a too old Python stops the script before any install.
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup.sh : il faut Python 3.11 ou plus récent ($PYTHON : $("$PYTHON" --version 2>&1))." >&2
  exit 2
fi

LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/setup-sacoche.XXXXXX")"
APT_LOG="$LOG_DIR/apt.log"
PIP_LOG="$LOG_DIR/pip.log"
# The logs are kept only when something failed (fail() names them), empty ones never.
trap 'rc=$?; if [ "$rc" -eq 0 ]; then rm -rf "$LOG_DIR"; else rm -f "$LOG_DIR/apt-last.log"; find "$LOG_DIR" -depth -empty -delete 2>/dev/null || true; fi' EXIT

system_packages
virtual_env
python_packages "$venv_state"

cat <<EOF
Installation terminée en $(( $(date +%s) - started )) s. Ensuite :
  .venv/bin/python -m bot demo    la démo : un établissement fictif, sur des simulateurs locaux
  .venv/bin/python -m pytest      les tests (un vrai Chromium)
  L'option --headed (voir le navigateur) demande un écran ; sans écran : xvfb-run -a -s '-screen 0 1366x768x24' .venv/bin/python -m bot demo --headed
EOF
