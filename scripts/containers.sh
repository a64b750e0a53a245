#!/usr/bin/env bash
# `./run.sh containers up|down|build`: the product as containers on this machine, with podman.
#   up     builds the base images (once, cached outside the clone), the four service images and the data
#          image, starts docker-compose.yml with podman-compose behind a self-signed certificate for
#          127.0.0.1, waits for every health check and prints the URL
#   up --scale   the same plus docker-compose.scale.yml: PostgreSQL and Redis (local stand-ins of their
#          images), two backends and two ml-services behind their balancers (RESEMBLE_SCALE=1 does the same)
#   down   stops and removes the stack (volumes are kept; RESEMBLE_DOWN_VOLUMES=1 removes them too)
#   build  only builds the images
# Environment (all optional):
#   RESEMBLE_CACHE_DIR   base rootfs, certificates, secrets, stores (default /var/cache/resemble as root,
#                        else ~/.cache/resemble)
#   RESEMBLE_STORE       the market store baked into the data image (default ./data when it has a catalog,
#                        else the bundled demo imported into the cache)
#   RESEMBLE_PROJECT     compose project name (default resemble-local)
#   RESEMBLE_SERVICES    service images to build (default "backend ml-service scraper frontend")
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

export CONTAINERS_CONF="$repo/deploy/containers/containers.conf"
if [ "$(id -u)" -eq 0 ]; then cache_default=/var/cache/resemble; else cache_default="${XDG_CACHE_HOME:-$HOME/.cache}/resemble"; fi
cache="${RESEMBLE_CACHE_DIR:-$cache_default}"
project="${RESEMBLE_PROJECT:-resemble-local}"
registry=localhost/resemble
app_tag=local
base_min=localhost/resemble/bookworm-min:latest
base_node=localhost/resemble/node:20-bookworm
base_nginx=localhost/resemble/nginx:bookworm
base_postgres=localhost/resemble/postgres:15-bookworm
base_redis=localhost/resemble/redis:bookworm
env_file="$cache/$project.env"
host_ca=/etc/ssl/certs/ca-certificates.crt

log() { printf '[containers %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- base images: debootstrap once (rootfs tarball cached), then import and the two stand-ins ----------------
ensure_bases() {
  mkdir -p "$cache"
  if ! podman image exists "$base_min"; then
    local tarball="$cache/bookworm-minbase.tar"
    if [ ! -s "$tarball" ]; then
      log "debootstrap bookworm (minbase) into the cache, about a minute"
      local root
      root="$(mktemp -d "$cache/rootfs.XXXXXX")"
      debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 \
        || { rm -rf "$root"; die "debootstrap failed (see $cache/debootstrap.log)"; }
      # No package caches or logs in the base; the tarball is written atomically.
      rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
      tar --numeric-owner -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
      rm -rf "$root"
    fi
    log "importing the bookworm base"
    podman import -q --change 'CMD ["/bin/bash"]' "$tarball" "$base_min" >/dev/null
  fi
  # The stand-ins are built every time: layer caching makes that instant unless their files changed.
  log "Node 20 base (the host's node and npm) and nginx base"
  {
    local ctx
    ctx="$(mktemp -d)"
    cp "$(readlink -f "$(command -v node)")" "$ctx/node"
    local npm_dir
    npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
    cp -a "$npm_dir" "$ctx/npm"
    cp -a "$(dirname "$(readlink -f "$(command -v node)")")/../include/node" "$ctx/include"
    podman build -q --format docker -f deploy/containers/node-base.Containerfile --build-arg "BASE_IMAGE=$base_min" \
      -t "$base_node" "$ctx" >/dev/null || { rm -rf "$ctx"; die "node base build failed"; }
    rm -rf "$ctx"
  }
  podman build -q --format docker -f deploy/containers/nginx-base.Containerfile --build-arg "BASE_IMAGE=$base_min" \
    -t "$base_nginx" deploy/containers >/dev/null || die "nginx base build failed"
}

# The scale stack's PostgreSQL and Redis: stand-ins for their official images from Debian's packages
# (layer caching makes a rebuild instant unless their files changed).
ensure_state_images() {
  podman image exists "$base_min" || ensure_bases
  log "PostgreSQL and Redis stand-ins (scale stack)"
  podman build -q --format docker -f deploy/containers/postgres-base.Containerfile --build-arg "BASE_IMAGE=$base_min" \
    -t "$base_postgres" deploy/containers >/dev/null || die "postgres stand-in build failed"
  podman build -q --format docker -f deploy/containers/redis-base.Containerfile --build-arg "BASE_IMAGE=$base_min" \
    -t "$base_redis" deploy/containers >/dev/null || die "redis stand-in build failed"
}

# --- skipping unchanged builds ------------------------------------------------------------------------------
# Even fully cached, each podman build walks the whole context (node_modules included) and re-checks every
# layer: ~30 s an image here. So a stamp of everything the builds read (those files in the commit, their
# uncommitted changes and untracked files, the host's node) skips them when nothing changed; any change
# builds again (layers cached). The paths are what the Dockerfiles COPY (and the context's .dockerignore):
# a change to the compose files, deploy/, scripts, docs or tests alone rebuilds nothing.
image_inputs=(backend contracts data-image frontend ml-service scraper package.json package-lock.json .npmrc
  .puppeteerrc.cjs tsconfig.base.json tests/package.json docs/backtest/report.json .dockerignore
  deploy/containers/node-base.Containerfile)
build_stamp() {
  git rev-parse --git-dir >/dev/null 2>&1 || return 0
  {
    git ls-tree -r HEAD -- "${image_inputs[@]}"
    git diff HEAD -- "${image_inputs[@]}"
    git ls-files -o --exclude-standard -z -- "${image_inputs[@]}" | xargs -0 -r sha256sum
    readlink -f "$(command -v node)" && node --version && echo "${RESEMBLE_SERVICES:-}"
  } | sha256sum | cut -c1-32
}
images_current() {
  local stamp="$1" s
  [ -n "$stamp" ] && [ "$(cat "$cache/images.stamp" 2>/dev/null)" = "$stamp" ] || return 1
  for s in $base_node $base_nginx; do podman image exists "$s" || return 1; done
  for s in ${RESEMBLE_SERVICES:-backend ml-service scraper frontend}; do podman image exists "$registry/$s:$app_tag" || return 1; done
}

# --- the four service images: same Dockerfiles as CI, local base, host CA mounted for npm only -------------
build_services() {
  local s
  for s in ${RESEMBLE_SERVICES:-backend ml-service scraper frontend}; do
    log "building $registry/$s:$app_tag"
    # --format docker keeps HEALTHCHECK (the OCI format drops it); the CA bundle is a build-time mount.
    podman build --format docker --layers -f "$s/Dockerfile" \
      --build-arg "NODE_IMAGE=$base_node" \
      --build-arg "NODE_EXTRA_CA_CERTS=/run/host-ca.crt" \
      -v "$host_ca:/run/host-ca.crt:ro" \
      -t "$registry/$s:$app_tag" . >"$cache/build-$s.log" 2>&1 \
      || { tail -n 40 "$cache/build-$s.log" >&2; die "building $s failed (log: $cache/build-$s.log)"; }
  done
}

# --- the data image: the daemonless builder's archive, loaded ------------------------------------------------
store_dir() {
  if [ -n "${RESEMBLE_STORE:-}" ]; then echo "$RESEMBLE_STORE"; return; fi
  if [ -f data/catalog.sqlite ]; then echo "$repo/data"; return; fi
  local demo="$cache/demo-store"
  if [ ! -f "$demo/catalog.sqlite" ]; then
    log "importing the bundled demo data into $demo"
    npm run --silent import -w scraper -- --demo-if-empty --data "$demo" >"$cache/demo-import.log" 2>&1 \
      || { tail -n 20 "$cache/demo-import.log" >&2; die "importing the demo data failed"; }
  fi
  echo "$demo"
}

# Builds and loads the data image of a store; prints its tag.
build_data() {
  local store="$1" out
  out="$(mktemp -d "$cache/data-build.XXXXXX")"
  npm run --silent build -w data-image -- --data "$store" --out "$out/data.tar" --repository "$registry/data" >"$out/build.log" 2>&1 \
    || { cat "$out/build.log" >&2; rm -rf "$out"; die "data image build failed"; }
  local tag
  tag="$(sed -n 's/.*"org.opencontainers.image.ref.name":"\([^"]*\)".*/\1/p' "$out/data.oci/index.json")"
  podman load -q -i "$out/data.tar" >/dev/null || { rm -rf "$out"; die "podman load of the data image failed"; }
  rm -rf "$out"
  echo "$tag"
}

# --- certificate, secrets, env file ------------------------------------------------------------------------
ensure_certs() {
  local dir="$cache/certs"
  if [ ! -s "$dir/fullchain.pem" ] || ! openssl x509 -checkend 86400 -noout -in "$dir/fullchain.pem" >/dev/null 2>&1; then
    log "self-signed certificate for 127.0.0.1"
    mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
      -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
      -keyout "$dir/privkey.pem.tmp" -out "$dir/fullchain.pem.tmp" 2>/dev/null
    mv "$dir/privkey.pem.tmp" "$dir/privkey.pem" && mv "$dir/fullchain.pem.tmp" "$dir/fullchain.pem"
  fi
  # The proxy runs as nginx (uid/gid 101): the key is readable by that group only.
  chown -R 0:101 "$dir" && chmod 0750 "$dir" && chmod 0640 "$dir/privkey.pem" && chmod 0644 "$dir/fullchain.pem"
}

secret() {
  local f="$cache/secrets/$1"
  mkdir -p "$cache/secrets" && chmod 0700 "$cache/secrets"
  [ -s "$f" ] || { openssl rand -hex 32 >"$f.tmp" && chmod 0600 "$f.tmp" && mv "$f.tmp" "$f"; }
  cat "$f"
}

write_env() {
  local data_tag="$1"
  umask 077
  cat >"$env_file.tmp" <<EOF
COMPOSE_PROJECT_NAME=$project
REGISTRY_IMAGE=$registry
APP_TAG=$app_tag
PROXY_IMAGE=$base_nginx
DATA_IMAGE=$registry/data
DATA_TAG=$data_tag
DATA_KEEP_VERSIONS=3
SERVER_NAME=127.0.0.1
CERTS_DIR=$cache/certs
JWT_SECRET=$(secret jwt)
ML_TOKEN=$(secret ml-token)
# A local stack has no payment keys: test-mode billing on purpose (production refuses to start otherwise).
BILLING_SANDBOX=true
LOG_LEVEL=${LOG_LEVEL:-warn}
ML_RELOAD_INTERVAL_MS=${ML_RELOAD_INTERVAL_MS:-2000}
EOF
  if [ "$scale" = 1 ]; then
    cat >>"$env_file.tmp" <<EOF
RESEMBLE_COMPOSE_FILES="docker-compose.yml docker-compose.scale.yml"
POSTGRES_IMAGE=$base_postgres
REDIS_IMAGE=$base_redis
POSTGRES_PASSWORD=$(secret postgres)
REDIS_PASSWORD=$(secret redis)
EOF
  fi
  mv "$env_file.tmp" "$env_file"
  umask 022
}

compose() { RESEMBLE_ENV_FILE="$env_file" deploy/containers/compose.sh "$@"; }

# --- health ------------------------------------------------------------------------------------------------
container_of() { podman ps -a -q --filter "label=io.podman.compose.project=$project" --filter "label=com.docker.compose.service=$1" | head -n 1; }

# podman runs health checks from systemd timers; without systemd (containers, CI) nobody runs them, so the
# checks are run here until each passes.
wait_healthy() {
  local service="$1" timeout_s="${2:-300}" c deadline
  deadline=$(($(date +%s) + timeout_s))
  c="$(container_of "$service")"
  [ -n "$c" ] || die "no container for $service"
  until podman healthcheck run "$c" >/dev/null 2>&1; do
    [ "$(podman inspect -f '{{.State.Running}}' "$c")" = true ] || { podman logs --tail 40 "$c" >&2; die "$service stopped"; }
    [ "$(date +%s)" -lt "$deadline" ] || { podman logs --tail 40 "$c" >&2; die "$service not healthy after ${timeout_s}s"; }
    sleep 2
  done
  log "$service healthy"
}

wait_exit0() {
  local service="$1" c status
  c="$(container_of "$service")"
  [ -n "$c" ] || die "no container for $service"
  status="$(podman wait "$c")"
  [ "$status" = 0 ] || { podman logs --tail 40 "$c" >&2; die "$service exited $status"; }
  log "$service exited 0"
}

ports_free() {
  local p
  for p in 80 443; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      die "port $p on this host is in use (stop whatever listens there, or \`./run.sh containers down\`)"
    fi
  done
}

up() {
  local t0
  t0=$(date +%s)
  [ ! -e .env ] || die "podman-compose reads ./.env before the environment: move it away for a local stack (its settings live in $env_file)"
  local stamp
  stamp="$(build_stamp)"
  if images_current "$stamp"; then
    log "images up to date with this checkout (stamp $stamp): no build"
  else
    ensure_bases
    build_services
    [ -z "$stamp" ] || echo "$stamp" >"$cache/images.stamp"
  fi
  local store tag
  store="$(store_dir)"
  log "data image of $store"
  tag="$(build_data "$store")"
  ensure_certs
  [ "$scale" = 0 ] || ensure_state_images
  write_env "$tag"
  [ -n "$(container_of proxy)" ] || ports_free
  log "starting the stack ($project)"
  compose up -d proxy >"$cache/compose-up.log" 2>&1 || { cat "$cache/compose-up.log" >&2; die "podman-compose up failed"; }
  wait_exit0 data
  if [ "$scale" = 1 ]; then
    wait_healthy postgres
    wait_healthy redis
  fi
  wait_healthy ml-service 600
  if [ "$scale" = 1 ]; then
    wait_healthy ml-service-2 600
    wait_healthy ml-proxy
    wait_healthy backend-2
  fi
  wait_healthy backend
  wait_healthy frontend
  wait_healthy proxy
  curl -fsS --cacert "$cache/certs/fullchain.pem" https://127.0.0.1/api/v1/health >/dev/null || die "https://127.0.0.1 does not answer"
  log "up in $(($(date +%s) - t0)) s"
  echo "Resemble is up at https://127.0.0.1 (self-signed certificate: $cache/certs/fullchain.pem)"
  [ "$scale" = 0 ] || echo "scale stack: PostgreSQL, Redis, backend x2, ml-service x2 (docker-compose.scale.yml)"
}

# Stops and removes the project's containers. -t 20 is longer than backend's own 10 s drain deadline, so
# podman's SIGKILL never races the process's own exit; if it still does ("container state improper:
# stopped", the container ended between the check and the kill), the container is gone by the next try.
remove_project_containers() {
  local ids try
  for try in 1 2 3; do
    ids="$(podman ps -a -q --filter "label=io.podman.compose.project=$project")"
    [ -n "$ids" ] || return 0
    podman rm -f -t 20 -v $ids >/dev/null 2>"$cache/rm.log" && return 0
    log "podman rm failed (try $try of 3), retrying: $(tail -n 1 "$cache/rm.log")"
    sleep 1
  done
  cat "$cache/rm.log" >&2
  die "could not remove the containers of $project"
}

down() {
  if [ ! -f "$env_file" ]; then log "nothing to stop ($env_file missing)"; return; fi
  local args=()
  [ "${RESEMBLE_DOWN_VOLUMES:-0}" = 1 ] && args+=(--volumes)
  # podman-compose down removes containers without their anonymous volumes (the data container's /data):
  # the project's containers go first, with them.
  remove_project_containers
  compose down "${args[@]}" >"$cache/compose-down.log" 2>&1 || { cat "$cache/compose-down.log" >&2; die "podman-compose down failed"; }
  # podman-compose 1.0.3 leaves the project's networks behind: they go too (a network still in use by a
  # container outside the project is kept, with podman's message).
  ids="$(podman network ls -q --filter "label=io.podman.compose.project=$project")"
  [ -z "$ids" ] || podman network rm $ids >/dev/null || log "some networks of $project are still in use"
  log "stack $project removed"
}

scale="${RESEMBLE_SCALE:-0}"
cmd="${1:-}"
shift || true
if [ "$cmd" != data-image ]; then
  for arg in "$@"; do
    case "$arg" in
      --scale) scale=1 ;;
      *) die "unknown option $arg (usage: ./run.sh containers up [--scale]|down|build)" ;;
    esac
  done
fi
case "$cmd" in
  bases) ensure_bases ;;
  up) up ;;
  down) down ;;
  build) ensure_bases; build_services ;;
  env) echo "$env_file" ;;
  # The data image of a store (built and loaded); prints its tag. deploy/roll-data.sh rolls to it.
  data-image) [ -n "${1:-}" ] || die "usage: scripts/containers.sh data-image STORE_DIR"; mkdir -p "$cache"; build_data "$1" ;;
  *) echo "usage: ./run.sh containers up [--scale]|down|build" >&2; exit 2 ;;
esac
