#!/usr/bin/env bash
# Without a Docker engine, checks what a service Dockerfile's npm steps produce: in a temp directory it
# runs the same lockfile installs (`npm install --omit=dev -w <ws>` for the runtime tree, a full
# `--include-workspace-root` install to take tsx + esbuild from), copies in what the runtime stage copies,
# and starts the service from that tree alone. Native better-sqlite3 is taken from this checkout's build
# (same Node ABI) instead of compiling it again.
# For the frontend it replays the build stage (sources first, full install, nuxt build) and serves the
# copied .output alone.
#   data-image/scripts/image-tree-check.sh ml-service|backend|scraper|frontend
set -euo pipefail
ws="${1:?usage: $0 ml-service|backend|scraper|frontend}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Polls url until it answers 2xx (then exits 0) or `tries` seconds pass (then prints the log, exits 1).
wait_ok() {
  local url=$1 tries=$2 what=$3 from=$4
  for _ in $(seq 1 "$tries"); do
    if node -e "fetch('$url').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
      echo "$what: OK, $url answered 200 from $from"; exit 0
    fi
    sleep 1
  done
  cat "$work/log" >&2; echo "$what: no healthy answer from $url" >&2; exit 1
}

skeleton() {
  mkdir -p "$1"
  cp "$repo/package.json" "$repo/package-lock.json" "$repo/.npmrc" "$1/"
  for w in contracts scraper ml-service backend frontend data-image tests; do
    mkdir -p "$1/$w" && cp "$repo/$w/package.json" "$1/$w/"
  done
}
export PUPPETEER_SKIP_DOWNLOAD=1 NUXT_TELEMETRY_DISABLED=1

if [ "$ws" = frontend ]; then
  skeleton "$work/build"
  cp "$repo/tsconfig.base.json" "$work/build/"
  (cd "$repo" && tar cf - --exclude=node_modules --exclude=.nuxt --exclude=.output --exclude=test \
    --exclude=bench --exclude='*.test.ts' --exclude=vitest.config.ts contracts frontend) | tar xf - -C "$work/build"
  (cd "$work/build" && npm install -w @resemble/frontend --include-workspace-root --no-audit --no-fund --loglevel=error)
  (cd "$work/build" && npm run build -w @resemble/frontend >/dev/null)
  mkdir -p "$work/rt" && cp -a "$work/build/frontend/.output" "$work/rt/"
  rm -rf "$work/build"   # the runtime stage has nothing but .output
  port=$(( 20000 + RANDOM % 20000 ))
  (cd "$work/rt" && NODE_ENV=production NITRO_HOST=127.0.0.1 NITRO_PORT=$port NUXT_BACKEND_URL=http://127.0.0.1:9 \
    exec node .output/server/index.mjs > "$work/log" 2>&1) &
  pid=$!; url="http://127.0.0.1:$port/"
  wait_ok "$url" 60 "frontend" ".output alone"
fi

skeleton "$work/deps"
skeleton "$work/tsx"
# The scraper image also carries data-image's builder (the Kubernetes daily job bakes the data image with it).
extra=()
[ "$ws" = scraper ] && extra=(-w @resemble/data-image)
(cd "$work/deps" && npm install --omit=dev -w "@resemble/$ws" "${extra[@]}" --ignore-scripts --no-audit --no-fund --loglevel=error)
(cd "$work/tsx" && npm install -w "@resemble/$ws" --include-workspace-root --ignore-scripts --no-audit --no-fund --loglevel=error)

rt="$work/deps"
cp -a "$work/tsx/node_modules/tsx" "$work/tsx/node_modules/esbuild" "$work/tsx/node_modules/@esbuild" "$rt/node_modules/"
cp -a "$repo/node_modules/better-sqlite3/build" "$rt/node_modules/better-sqlite3/"
cp "$repo/tsconfig.base.json" "$repo/.puppeteerrc.cjs" "$rt/"
cp -a "$repo/contracts/tsconfig.json" "$repo/contracts/src" "$rt/contracts/"
# The runtime stage copies the whole workspace minus what .dockerignore drops.
(cd "$repo" && tar cf - --exclude=node_modules --exclude=test --exclude=bench --exclude=fixtures \
  --exclude=demo --exclude=test-site --exclude='*.test.ts' --exclude=vitest.config.ts "$ws") | tar xf - -C "$rt"
if [ "$ws" = scraper ]; then
  (cd "$repo" && tar cf - data-image/package.json data-image/src data-image/image) | tar xf - -C "$rt"
fi
[ ! -e "$rt/node_modules/tsx/dist/cli.mjs" ] && { echo "tsx missing from the runtime tree" >&2; exit 1; }
echo "runtime tree: $(ls "$rt/node_modules" | wc -l) top-level packages"

data="$work/data"
mkdir -p "$data"
port=$(( 20000 + RANDOM % 20000 ))
cd "$rt"
case "$ws" in
  ml-service)
    printf "import { makeStore, codesFor } from '%s';\nmakeStore('%s', codesFor(12), 80);\n" \
      "$repo/data-image/test/support/store-fixture.ts" "$data" > "$work/seed.mts"
    (cd "$repo" && npx tsx "$work/seed.mts")
    ML_HOST=127.0.0.1 ML_PORT=$port DATA_DIR="$data" ML_SEARCH_WORKERS=0 NODE_ENV=production \
      node node_modules/tsx/dist/cli.mjs ml-service/src/server.ts > "$work/log" 2>&1 &
    pid=$!; url="http://127.0.0.1:$port/health" ;;
  backend)
    NODE_ENV=production HOST=127.0.0.1 PORT=$port APP_DB="$data/app.sqlite" DATA_DIR="$data" \
      JWT_SECRET=image-tree-check-secret-0123456789abcdef ML_URL=http://127.0.0.1:9 BILLING_SANDBOX=true \
      node node_modules/tsx/dist/cli.mjs backend/src/server.ts > "$work/log" 2>&1 &
    pid=$!; url="http://127.0.0.1:$port/api/v1/health" ;;
  scraper)
    # A one-shot CLI: loading every module and answering bad usage with exit 2 proves the tree.
    set +e; DATA_DIR="$data" node node_modules/tsx/dist/cli.mjs scraper/src/scrape.cli.ts --since nope > "$work/log" 2>&1
    code=$?; set -e
    [ "$code" = 2 ] && grep -q 'usage: npm run scrape' "$work/log" || { cat "$work/log" >&2; exit 1; }
    echo "scraper: OK (modules load, usage exit 2)"
    # …and the data image builder in the same tree bakes an image from a small store.
    printf "import { makeStore, codesFor } from '%s';\nmakeStore('%s', codesFor(6), 40);\n" \
      "$repo/data-image/test/support/store-fixture.ts" "$data" > "$work/seed.mts"
    (cd "$repo" && npx tsx "$work/seed.mts")
    mkdir -p "$work/out"
    node node_modules/tsx/dist/cli.mjs data-image/src/build.cli.ts --data "$data" --out "$work/out/data.tar" > "$work/log" 2>&1 \
      || { cat "$work/log" >&2; exit 1; }
    [ -s "$work/out/data.tar" ] && echo "scraper: OK (data image built from the runtime tree: $(du -h "$work/out/data.tar" | cut -f1))"
    exit 0 ;;
  *) echo "unknown workspace $ws" >&2; exit 2 ;;
esac
wait_ok "$url" 120 "$ws" "the runtime tree"
