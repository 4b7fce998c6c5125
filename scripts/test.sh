#!/usr/bin/env bash
# Install what the test suite needs on a fresh Debian machine, then run the whole suite.
# The browser tests drive Debian's Chromium (package "chromium"), not a downloaded browser.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core poppler-utils
fi
python3 -m pip install -q -e ".[test]"
python3 -m pytest "$@"
