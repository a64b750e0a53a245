#!/usr/bin/env bash
# Rolls the host to another data image without downtime, or backs out to the previous one:
#   deploy/roll-data.sh <data tag>        e.g. 2026-11-20-3f2a9c0d1b7e
#   deploy/roll-data.sh --back-out        the tag that was live before the last roll
# Run from the compose directory (/opt/resemble). ml-service keeps serving the old data until it has
# loaded and validated the new one (it watches the catalog's data_version), so nothing restarts.
set -euo pipefail
cd "$(dirname "$0")/.."

env_file=.env
state=deploy/.data-tag-history
timeout_s="${ROLL_TIMEOUT_S:-600}"

current_tag() { sed -n 's/^DATA_TAG=//p' "$env_file"; }
set_tag() {
  # Rewrite .env through a temp file and rename, so a crash never leaves it half-written.
  sed "s/^DATA_TAG=.*/DATA_TAG=$1/" "$env_file" > "$env_file.tmp" && mv "$env_file.tmp" "$env_file"
}

case "${1:-}" in
  "") echo "usage: $0 <data tag> | --back-out" >&2; exit 2 ;;
  --back-out)
    [ -s "$state" ] || { echo "no previous data tag recorded in $state" >&2; exit 1; }
    target="$(tail -n 1 "$state")" ;;
  *) target="$1" ;;
esac
[[ "$target" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || { echo "bad tag: $target" >&2; exit 2; }

previous="$(current_tag)"
echo "data image: $previous -> $target"
set_tag "$target"
# ROLL_SKIP_PULL=1: the image was loaded locally (deploy/daily-on-host.sh), not pushed to a registry.
if [ "${ROLL_SKIP_PULL:-0}" != 1 ] && ! docker compose pull data; then
  set_tag "$previous"; echo "pull failed; DATA_TAG left at $previous" >&2; exit 1
fi

# -V (renew anonymous volumes): otherwise compose hands the new container the old container's /data volume
# and the publish script would refuse it as stale.
docker compose up -d --no-deps --renew-anon-volumes data
container="$(docker compose ps -a -q data)"
status="$(timeout "$timeout_s" docker wait "$container")"
if [ "$status" != "0" ]; then
  docker compose logs --no-color --tail 50 data >&2 || true
  set_tag "$previous"; docker compose up -d --no-deps --renew-anon-volumes data || true
  echo "publishing $target failed (exit $status); rolled back to $previous" >&2; exit 1
fi

# Wait until ml-service reports the new data version (it reloads within ML_RELOAD_INTERVAL_MS).
want="$(docker image inspect --format '{{index .Config.Labels "io.resemble.data.version"}}' "$(docker compose config --images data)")"
deadline=$(( $(date +%s) + timeout_s ))
while :; do
  have="$(docker compose exec -T backend node -e '
    fetch("http://ml-service:8001/health", { headers: { authorization: `Bearer ${process.env.ML_TOKEN}` } })
      .then((r) => r.json()).then((h) => console.log(h.dataVersion ?? ""), () => console.log(""));' || true)"
  [ "$have" = "$want" ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "ml-service still serves ${have:-nothing} after ${timeout_s}s; back out with: $0 --back-out" >&2; exit 1
  fi
  sleep 5
done
if [ "$1" = "--back-out" ]; then
  sed -i '$ d' "$state"
else
  echo "$previous" >> "$state"
fi
echo "ml-service now serves data version $want (tag $target)"
