#!/usr/bin/env bash
# Rolls the host to another data image without downtime, or backs out to the previous one:
#   deploy/roll-data.sh <data tag>        e.g. 2026-11-20-3f2a9c0d1b7e
#   deploy/roll-data.sh --back-out        the tag that was live before the last roll
# Run from the compose directory (/opt/resemble). ml-service keeps serving the old data until it has
# loaded and validated the new one (it watches the catalog's data_version), so nothing restarts.
# Engine (defaults: Docker with compose v2):
#   ENGINE=podman COMPOSE=deploy/containers/compose.sh RESEMBLE_ENV_FILE=FILE   the podman stack of
#   `./run.sh containers up` (its env file is printed by `scripts/containers.sh env`)
#   ROLL_SKIP_PULL=1   the image was loaded locally (deploy/daily-on-host.sh), not pushed to a registry
set -euo pipefail
cd "$(dirname "$0")/.."

engine="${ENGINE:-docker}"
read -r -a compose <<<"${COMPOSE:-docker compose}"
env_file="${RESEMBLE_ENV_FILE:-.env}"
state="${ROLL_STATE_FILE:-deploy/.data-tag-history}"
timeout_s="${ROLL_TIMEOUT_S:-600}"

setting() { sed -n "s/^$1=//p" "$env_file"; }
set_tag() {
  # Rewrite the env file through a temp file and rename, so a crash never leaves it half-written.
  sed "s/^DATA_TAG=.*/DATA_TAG=$1/" "$env_file" >"$env_file.tmp" && mv "$env_file.tmp" "$env_file"
}
project="$(setting COMPOSE_PROJECT_NAME)"
project="${project:-resemble}"
# Both compose implementations label containers with the project and service.
container_of() {
  "$engine" ps -a -q --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$1" | head -n 1
}
# A fresh data container: the old one goes with its anonymous /data volume (else the new container could
# be handed the old image's /data, which the publish script refuses as stale), then compose creates it.
republish() {
  local old
  old="$(container_of data)"
  if [ -n "$old" ]; then "$engine" rm -f -v "$old" >/dev/null; fi
  "${compose[@]}" up -d --no-deps data >/dev/null
}

case "${1:-}" in
  "") echo "usage: $0 <data tag> | --back-out" >&2; exit 2 ;;
  --back-out)
    [ -s "$state" ] || { echo "no previous data tag recorded in $state" >&2; exit 1; }
    target="$(tail -n 1 "$state")" ;;
  *) target="$1" ;;
esac
[[ "$target" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || { echo "bad tag: $target" >&2; exit 2; }
[ -f "$env_file" ] || { echo "no $env_file" >&2; exit 2; }

previous="$(setting DATA_TAG)"
image="$(setting DATA_IMAGE):$target"
echo "data image: $previous -> $target"
set_tag "$target"
if [ "${ROLL_SKIP_PULL:-0}" != 1 ] && ! "${compose[@]}" pull data; then
  set_tag "$previous"; echo "pull failed; DATA_TAG left at $previous" >&2; exit 1
fi

republish
container="$(container_of data)"
status="$(timeout "$timeout_s" "$engine" wait "$container")" || status="timeout"
if [ "$status" != "0" ]; then
  "$engine" logs --tail 50 "$container" >&2 || true
  set_tag "$previous"; republish || true
  echo "publishing $target failed (exit $status); rolled back to $previous" >&2; exit 1
fi

# Wait until every ml-service replica reports the new data version (each reloads within
# ML_RELOAD_INTERVAL_MS): ml-service, and ml-service-2 in the scale stack (docker-compose.scale.yml).
want="$("$engine" image inspect --format '{{index .Config.Labels "io.resemble.data.version"}}' "$image")"
backend="$(container_of backend)"
replicas="ml-service"
if [ -n "$(container_of ml-service-2)" ]; then replicas="ml-service ml-service-2"; fi
deadline=$(($(date +%s) + timeout_s))
while :; do
  behind=""
  for replica in $replicas; do
    have="$("$engine" exec -e "ML_REPLICA=$replica" "$backend" node -e '
      fetch(`http://${process.env.ML_REPLICA}:8001/health`, { headers: { authorization: `Bearer ${process.env.ML_TOKEN}` } })
        .then((r) => r.json()).then((h) => console.log(h.dataVersion ?? ""), () => console.log(""));' || true)"
    [ "$have" = "$want" ] || behind="$behind $replica (${have:-nothing})"
  done
  [ -z "$behind" ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "still serving older data after ${timeout_s}s:$behind; back out with: $0 --back-out" >&2; exit 1
  fi
  sleep 2
done
if [ "$1" = "--back-out" ]; then
  sed -i '$ d' "$state"
else
  echo "$previous" >>"$state"
fi
echo "ml-service now serves data version $want (tag $target; replicas checked: $replicas)"
