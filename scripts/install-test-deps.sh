#!/usr/bin/env bash
# Install what the test suite needs on a fresh Debian machine: Debian's Chromium (the
# browser tests drive it, no downloaded browser), poppler-utils (pdftotext) and the
# package with its "test" extra.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core poppler-utils
fi
python3 -m pip install -q -e ".[test]"
