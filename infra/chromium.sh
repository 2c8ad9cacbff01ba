#!/usr/bin/env bash
# Debian's Chromium for the headless demo-page test (playwright-core drives it). Installed from the
# Debian package registry when missing; CHROMIUM_PATH points elsewhere if you have your own.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
[[ -x "$CHROMIUM" ]] && exit 0
command -v apt-get >/dev/null || die "$CHROMIUM is missing and apt-get is not available: install Chromium and set CHROMIUM_PATH"
SUDO=""
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null || die "$CHROMIUM is missing: run 'apt-get install chromium' as root"
  SUDO="sudo"
fi
log "installing Debian's chromium (for the headless demo-page test)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
[[ -x "$CHROMIUM" ]] || die "chromium was installed but $CHROMIUM is not there"
