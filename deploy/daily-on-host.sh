#!/usr/bin/env bash
# The daily data job for a host without CI: scrape into the scraper-store volume, gate on the run report,
# build the data image with the daemonless builder, load it into the local engine, roll to it.
# Needs a checkout of this repository with `npm install` done (RESEMBLE_SRC) and skopeo on the host.
# cron (UTC; 07:30 UTC = 16:30 JST, after the Tokyo close):
#   30 7 * * 1-5  deploy  /opt/resemble/deploy/daily-on-host.sh >> /var/log/resemble-daily.log 2>&1
set -euo pipefail
cd "$(dirname "$0")/.."
src="${RESEMBLE_SRC:-/opt/resemble-src}"
project="$(sed -n 's/^COMPOSE_PROJECT_NAME=//p' .env)"
data_image="$(sed -n 's/^DATA_IMAGE=//p' .env)"
max_failed="${MAX_FAILED_RATIO:-0.05}"

# Exit 1 = some stocks failed: the report gate below decides whether the day is still publishable.
docker compose --profile scrape run --rm scraper || [ $? -eq 1 ]

store="$(docker volume inspect "${project:-resemble}_scraper-store" --format '{{.Mountpoint}}')"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
(cd "$src" && npm run --silent check-report -w data-image -- --data "$store" --max-failed-ratio "$max_failed" --max-age-hours 6)
(cd "$src" && npm run --silent build -w data-image -- --data "$store" --out "$out/data.tar" --repository "$data_image")
tag="$(sed -n 's/.*"org.opencontainers.image.ref.name":"\([^"]*\)".*/\1/p' "$out/data.oci/index.json")"
skopeo copy --quiet "oci:$out/data.oci:$tag" "docker-daemon:$data_image:$tag"
ROLL_SKIP_PULL=1 ./deploy/roll-data.sh "$tag"
