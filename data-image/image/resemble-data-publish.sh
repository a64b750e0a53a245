#!/bin/sh
# Entry point of the data image (busybox sh). Copies this image's /data into the shared market-data volume
# as versions/<version>/ and then points `current` at it with one rename(2), so ml-service (which watches
# the catalog's data_version and swaps atomically) never sees a half-copied store. Re-running an older
# data image just points `current` back at its version: that is the back-out.
set -eu

SRC="${DATA_SRC:-/data}"
DEST="${DATA_VOLUME:-/srv/market}"
META="${DATA_META:-/etc/resemble-data}"
KEEP="${KEEP_VERSIONS:-3}"

die() { echo "resemble-data-publish: $*" >&2; exit 1; }

[ -r "$META/version" ] || die "$META/version missing: not a Resemble data image"
version="$(cat "$META/version")"
case "$version" in '' | *[!A-Za-z0-9._-]*) die "bad version \"$version\"" ;; esac

# A recreated container can inherit the previous container's anonymous /data volume (docker compose keeps
# anonymous volumes unless -V/--renew-anon-volumes): then /data holds OLD data under the NEW version name.
want="$(cat "$META/catalog.sha256")"
have="$(sha256sum "$SRC/catalog.sqlite" | cut -d' ' -f1)"
[ "$want" = "$have" ] || die "$SRC is stale (catalog sha256 $have, this image has $want): recreate the container with 'docker compose up -d --renew-anon-volumes data'"

mkdir -p "$DEST/versions"
if [ ! -d "$DEST/versions/$version" ]; then
  tmp="$DEST/versions/.tmp-$version-$$"
  rm -rf "$tmp"
  # -R, not -a: the script runs as nobody and cannot (and need not) keep the image's root ownership.
  cp -R "$SRC" "$tmp"
  sync
  mv "$tmp" "$DEST/versions/$version"
fi
ln -s "versions/$version" "$DEST/.current-$$"
mv -T "$DEST/.current-$$" "$DEST/current"
sync
echo "resemble-data-publish: current -> versions/$version"

# Retention: a history of published versions, newest last; the newest $KEEP stay (back-out targets).
# (Directory mtimes are useless here: cp -a keeps the image's fixed ones.)
hist="$DEST/history"
{ [ -f "$hist" ] && grep -vx "$version" "$hist" || true; echo "$version"; } > "$hist.tmp-$$"
mv "$hist.tmp-$$" "$hist"
tail -n "$KEEP" "$hist" > "$hist.keep-$$"
for old in $(ls -1 "$DEST/versions"); do
  grep -qx "$old" "$hist.keep-$$" && continue
  rm -rf "$DEST/versions/$old"
  echo "resemble-data-publish: removed old version $old"
done
rm -f "$hist.keep-$$"
