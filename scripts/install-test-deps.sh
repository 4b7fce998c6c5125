#!/usr/bin/env bash
# Install what the test suite needs on a fresh Debian machine: Debian's Chromium (the
# browser tests drive it, no downloaded browser), poppler-utils (pdftotext), PostgreSQL 15
# with PostGIS 3 (the tests start their own throwaway server) and the package with its
# "test" extra, and axe-core from npm (the browser tests' accessibility check, into
# node_modules/). It prints one line per step; the package managers'
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

# PostgreSQL/PostGIS: the tests start a throwaway server of their own (tests/postgres.py).
PG_BIN=/usr/lib/postgresql/15/bin
POSTGIS=/usr/share/postgresql/15/extension/postgis.control
if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1 \
   || [ ! -x "$PG_BIN/initdb" ] || [ ! -f "$POSTGIS" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  step "apt-get update" $SUDO apt-get update -qq
  step "Chromium, DejaVu, poppler-utils, PostgreSQL 15 + PostGIS 3 (apt)" \
    env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    chromium fonts-dejavu-core poppler-utils postgresql-15 postgresql-15-postgis-3
fi
step "geoapp et ses dépendances de test (pip)" \
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -e ".[test]"
# axe-core: the browser tests inject node_modules/axe-core/axe.min.js into every page.
AXE_VERSION=4.14.1
if ! command -v npm >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  step "apt-get update" $SUDO apt-get update -qq
  step "Node.js et npm (apt)" env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm
fi
step "axe-core $AXE_VERSION (npm)" \
  npm install --no-audit --no-fund --no-save --silent --prefix . "axe-core@$AXE_VERSION"
