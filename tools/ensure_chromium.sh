#!/usr/bin/env bash
# The browser tests (tests/test_web_browser.py) need headless Chromium: install Debian's packages when missing.
# Elsewhere (not Debian, not root) it only says so; the tests then skip with the same message.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then exit 0; fi
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
else
  echo ">>> chromium/chromedriver not found and cannot be installed here: the browser tests are SKIPPED"
fi
