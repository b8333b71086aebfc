#!/bin/sh
# Docker HEALTHCHECK. A `serve` worker answers /healthz on its ops address (inside the
# container); a channel worker has no ops endpoint, so `doctor` (configuration, directories,
# the Codex CLI) stands in when nothing listens there.
set -eu
addr="${RUSTY_PINCH_OPS_ADDR:-127.0.0.1:9464}"
if [ "$addr" != off ]; then
  rc=0
  # shellcheck disable=SC2016 # JavaScript template literal, not shell expansion
  node -e '
    const c = new AbortController();
    setTimeout(() => c.abort(), 5000).unref();
    fetch(`http://${process.argv[1]}/healthz`, { signal: c.signal }).then(
      (r) => process.exit(r.ok ? 0 : 1),
      (e) => process.exit(e && e.cause && e.cause.code === "ECONNREFUSED" ? 3 : 1),
    );' "$addr" || rc=$?
  if [ "$rc" -ne 3 ]; then exit "$rc"; fi
fi
exec rusty-pinch doctor >/dev/null
