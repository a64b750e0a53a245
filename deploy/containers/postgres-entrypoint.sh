#!/bin/sh
# The official postgres image's first-start behaviour that docker-compose.scale.yml uses, for the local
# stand-in: an empty PGDATA (no PG_VERSION) gets a cluster whose superuser is POSTGRES_USER with POSTGRES_PASSWORD
# (scram-sha-256 over TCP, trust on the container's own socket) and the database POSTGRES_DB.
set -eu
if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
  user="${POSTGRES_USER:-postgres}"
  db="${POSTGRES_DB:-$user}"
  # Built aside and renamed into place: a first start that is interrupted leaves no half-made cluster.
  tmp="$PGDATA.init-$$"
  rm -rf "$PGDATA".init-*
  mkdir -p "$tmp" && chmod 0700 "$tmp"
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$tmp" -U "$user" --pwfile="$pwfile" -E UTF8 --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  printf 'host all all all scram-sha-256\n' >>"$tmp/pg_hba.conf"
  if [ "$db" != postgres ]; then
    printf 'CREATE DATABASE "%s";\n' "$db" | postgres --single -D "$tmp" postgres >/dev/null
  fi
  rm -rf "$PGDATA"
  mv "$tmp" "$PGDATA"
  echo "postgres-entrypoint: initialised $PGDATA (user $user, database $db)"
fi
if [ "${1:-}" = postgres ]; then
  shift
  # The socket directory comes from the command (compose: /tmp), else Debian's default /var/run/postgresql.
  exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
fi
exec "$@"
