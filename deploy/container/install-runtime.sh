#!/bin/sh
# Installs a release tarball under PREFIX the way the container image does ("/" in the image;
# a temp dir in the tests): the tree in PREFIX/opt/rusty-pinch, commands in
# PREFIX/usr/local/bin, state folders in PREFIX/var/lib/rusty-pinch.
#   install-runtime.sh <prefix> <rusty-pinch-*.tar.gz> [<dir with entrypoint.sh, healthcheck.sh>]
set -eu

prefix="${1:?usage: install-runtime.sh <prefix> <tarball> [<script dir>]}"
tarball="${2:?usage: install-runtime.sh <prefix> <tarball> [<script dir>]}"
scripts="${3:-$(dirname "$0")}"
prefix="${prefix%/}"

[ -f "$tarball" ] || { echo "install-runtime: $tarball is not a file" >&2; exit 1; }
app="$prefix/opt/rusty-pinch"
bin="$prefix/usr/local/bin"

rm -rf "$app"
mkdir -p "$app" "$bin" "$prefix/var/lib/rusty-pinch/data" "$prefix/var/lib/rusty-pinch/workspace" "$prefix/var/lib/rusty-pinch/codex-home"
tar -xzf "$tarball" -C "$app" --strip-components=1
[ -f "$app/dist/cli.js" ] || { echo "install-runtime: $tarball holds no dist/cli.js" >&2; exit 1; }

# A wrapper rather than a symlink: it works the same under any prefix.
printf '#!/bin/sh\nexec node %s/bin/rusty-pinch "$@"\n' "$app" >"$bin/rusty-pinch"
install -m 0755 "$scripts/entrypoint.sh" "$bin/rusty-pinch-entrypoint"
install -m 0755 "$scripts/healthcheck.sh" "$bin/rusty-pinch-healthcheck"
chmod 0755 "$bin/rusty-pinch"
chmod 0700 "$prefix/var/lib/rusty-pinch/codex-home"
