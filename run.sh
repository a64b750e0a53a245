#!/usr/bin/env bash
# The commands of the README: `./run.sh start` runs the product, `./run.sh test` runs every test,
# `./run.sh containers up [--scale]|down` runs it as containers with podman (scripts/containers.sh).
# All first make sure this machine has what they need (system packages, npm packages), so a fresh
# Debian machine with Node 20 needs nothing else.
set -euo pipefail
cd "$(dirname "$0")"
cmd="${1:-}"
case "$cmd" in start|test|containers) ;; *) echo "usage: ./run.sh start|test|containers up [--scale]|down" >&2; exit 2 ;; esac
shift || true
bash scripts/setup.sh
export NUXT_TELEMETRY_DISABLED=1 PUPPETEER_SKIP_DOWNLOAD=1
case "$cmd" in
  start) exec npm start -- "$@" ;;
  containers) exec bash scripts/containers.sh "$@" ;;
  test)
    npm run build -w frontend
    # Types and lint of every workspace first: a type error stops the run before the tests start.
    npm run check
    npm run lint
    exec npm test -- "$@" ;;
esac
