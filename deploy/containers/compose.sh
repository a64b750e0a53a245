#!/usr/bin/env bash
# podman-compose on docker-compose.yml (plus docker-compose.scale.yml for the scale stack) with the settings
# of a local stack: the variables come from
# RESEMBLE_ENV_FILE (written by scripts/containers.sh, edited by deploy/roll-data.sh), the project name
# from its COMPOSE_PROJECT_NAME. Usage: RESEMBLE_ENV_FILE=FILE deploy/containers/compose.sh ARGS...
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${RESEMBLE_ENV_FILE:?RESEMBLE_ENV_FILE must name the env file of the stack}"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$(pwd)/deploy/containers/containers.conf}"
set -a
# shellcheck disable=SC1090
. "$RESEMBLE_ENV_FILE"
set +a
# RESEMBLE_COMPOSE_FILES (from the env file): the compose files in merge order, space-separated; the `scale`
# stack adds docker-compose.scale.yml.
files=()
for f in ${RESEMBLE_COMPOSE_FILES:-docker-compose.yml}; do files+=(-f "$f"); done
exec podman-compose -p "$COMPOSE_PROJECT_NAME" "${files[@]}" "$@"
