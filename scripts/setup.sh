#!/usr/bin/env bash
# Idempotent set-up: Debian packages (Chromium for puppeteer, CJK fonts so Japanese renders, tools the
# delivery tests use) and the npm workspace install. Fast when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(chromium fonts-noto-cjk sqlite3 skopeo umoci busybox-static nginx openssl git)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
export NUXT_TELEMETRY_DISABLED=1 PUPPETEER_SKIP_DOWNLOAD=1
stamp=node_modules/.resemble-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "setup: npm install (first run compiles better-sqlite3, about 3 minutes)"
  # `npm ci` fails here (other platforms' optional builds missing in the registry): npm install with the lockfile.
  npm install --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
