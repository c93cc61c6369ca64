#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test of devcluster's live page
# (devcluster/tests/ui_browser.rs drives it headless over the DevTools
# protocol; under CI=true that test fails instead of skipping when Chromium
# is missing). Idempotent: does nothing when it is there.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "chromium: already installed ($(/usr/bin/chromium --version 2>/dev/null || true))"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y chromium fonts-dejavu-core
test -x /usr/bin/chromium
echo "chromium: installed ($(/usr/bin/chromium --version 2>/dev/null || true))"
