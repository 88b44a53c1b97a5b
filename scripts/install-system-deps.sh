#!/usr/bin/env bash
# Installs what the browser and Redis tests need, only where it is missing:
# Debian's chromium and redis-server (apt), else Playwright's own Chromium as the fallback.
set -euo pipefail
py=${1:-.venv/bin/python}
missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
if command -v apt-get >/dev/null 2>&1 && { [ -z "$sudo" ] || sudo -n true 2>/dev/null; }; then
    echo "installing from Debian: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    exit 0
fi
if [[ " ${missing[*]} " == *" chromium "* ]]; then
    echo "apt-get not usable: installing Playwright's own Chromium"
    "$py" -m playwright install chromium
fi
if ! command -v redis-server >/dev/null 2>&1; then
    echo "redis-server is missing and cannot be installed here: install it (e.g. apt-get install redis-server)" >&2
    exit 1
fi
