#!/usr/bin/env bash
# Install what the test suite needs on a fresh Debian machine: Debian's Chromium (the
# browser tests drive it, no downloaded browser), poppler-utils (pdftotext) and the
# package with its "test" extra. It prints one line per step; the package managers'
# output goes to a log file, shown only if a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."

LOG="${TMPDIR:-/tmp}/qmi-install-test-deps.log"
: > "$LOG"

step() {  # step "what" command…: run quietly, say what, show the log on failure
  local what="$1"; shift
  printf '• %s… ' "$what"
  if "$@" >>"$LOG" 2>&1; then
    echo "ok"
  else
    echo "ÉCHEC (journal : $LOG)"; tail -n 40 "$LOG"; exit 1
  fi
}

if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  step "apt-get update" $SUDO apt-get update -qq
  step "Chromium, polices DejaVu, poppler-utils (apt)" \
    env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    chromium fonts-dejavu-core poppler-utils
fi
step "geoapp et ses dépendances de test (pip)" \
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -e ".[test]"
