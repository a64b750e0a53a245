#!/usr/bin/env bash
# Rolls the application images to a commit's build: deploy/roll-app.sh <commit sha>
# Pulls first (a failed pull changes nothing), then recreates only the services whose image changed and
# waits for their health checks; the previous APP_TAG is printed for a back-out (run this script with it).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: $0 <commit sha>}"
[[ "$target" =~ ^[0-9a-f]{7,40}$ ]] || { echo "bad commit sha: $target" >&2; exit 2; }
previous="$(sed -n 's/^APP_TAG=//p' .env)"
sed "s/^APP_TAG=.*/APP_TAG=$target/" .env > .env.tmp && mv .env.tmp .env
if ! docker compose pull frontend backend ml-service; then
  sed "s/^APP_TAG=.*/APP_TAG=$previous/" .env > .env.tmp && mv .env.tmp .env
  echo "pull failed; APP_TAG left at $previous" >&2; exit 1
fi
docker compose up -d --wait --wait-timeout 600 proxy frontend backend ml-service
echo "app now at $target (previous: $previous; back out with: $0 $previous)"
