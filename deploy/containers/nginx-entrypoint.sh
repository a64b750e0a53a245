#!/bin/sh
# The official nginx image's entrypoint behaviour that docker-compose.yml uses, for the local stand-in.
set -eu
if [ -z "${NGINX_LOCAL_RESOLVERS:-}" ]; then
  NGINX_LOCAL_RESOLVERS="$(awk 'BEGIN{ORS=" "} $1=="nameserver" {print ($2 ~ ":") ? "[" $2 "]" : $2}' /etc/resolv.conf)"
  NGINX_LOCAL_RESOLVERS="${NGINX_LOCAL_RESOLVERS% }"
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
