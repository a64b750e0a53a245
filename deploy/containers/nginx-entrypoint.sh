#!/bin/sh
# The official nginx image's entrypoint behaviour that docker-compose.yml uses, for the local stand-in.
set -eu
# Only the first nameserver (the official script takes all): podman lists its network's aardvark-dns
# first and then the host's resolvers, which cannot resolve service names, and nginx asks its resolvers
# in turn, so every other lookup of "backend" would fail. Docker lists only 127.0.0.11.
if [ -z "${NGINX_LOCAL_RESOLVERS:-}" ]; then
  NGINX_LOCAL_RESOLVERS="$(awk '$1=="nameserver" {print ($2 ~ ":") ? "[" $2 "]" : $2; exit}' /etc/resolv.conf)"
  export NGINX_LOCAL_RESOLVERS
fi
templates="${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}"
out="${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}"
suffix="${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}"
if [ -d "$templates" ]; then
  defined="$(printf '${%s} ' $(env | cut -d= -f1))"
  for t in "$templates"/*"$suffix"; do
    [ -f "$t" ] || continue
    name="$(basename "$t" "$suffix")"
    envsubst "$defined" < "$t" > "$out/$name"
  done
fi
exec "$@"
