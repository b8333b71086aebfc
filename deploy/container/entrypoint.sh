#!/bin/sh
# Container entrypoint: bootstraps the Codex CLI login when the provider is codex, then runs
# `rusty-pinch "$@"` as PID 1's child under tini. It never stops the start: whatever the login
# outcome, the worker starts and `doctor` / `codex status` say what is missing.
#
# Variables (all optional; see docs/runbook-raspberry-pi.md):
#   RUSTY_PINCH_PROVIDER / RUSTY_PINCH_CODEX_ENABLED   bootstrap only for provider codex, enabled
#   RUSTY_PINCH_CODEX_HOME         the home to log in (default <home root>/default, the runtime's
#                                  default account; home root = RUSTY_PINCH_CODEX_HOME_ROOT)
#   RUSTY_PINCH_CODEX_AUTO_LOGIN   true (default) | false
#   RUSTY_PINCH_CODEX_AUTO_LOGIN_MODE  chatgpt (default) | api-key | off
#   RUSTY_PINCH_CODEX_CHATGPT_AUTH_FILE / RUSTY_PINCH_CODEX_CHATGPT_AUTH_JSON_B64  auth.json to restore
#   RUSTY_PINCH_CODEX_CHATGPT_DEVICE_AUTH  true (default): run `codex login --device-auth`
#   RUSTY_PINCH_CODEX_LOGIN_TIMEOUT_SECS   300 (default): how long device auth may block start
#   RUSTY_PINCH_CODEX_AUTO_LOGIN_API_KEY_ENV  the variable holding the key (default
#                                  RUSTY_PINCH_OPENAI_API_KEY); piped on stdin, never an argument
set -eu

log() {
  printf '[rusty-pinch-entrypoint] %s\n' "$*" >&2
}

lower() {
  printf '%s' "$1" | tr '[:upper:]' '[:lower:]'
}

truthy() {
  case "$(lower "$1")" in
    1 | true | yes | on) return 0 ;;
    *) return 1 ;;
  esac
}

ensure_codex_home() {
  root="${RUSTY_PINCH_CODEX_HOME_ROOT:-/var/lib/rusty-pinch/codex-home}"
  CODEX_HOME="${RUSTY_PINCH_CODEX_HOME:-$root/default}"
  export CODEX_HOME RUSTY_PINCH_CODEX_HOME_ROOT="$root"
  if ! mkdir -p "$CODEX_HOME" 2>/dev/null || ! chmod 700 "$CODEX_HOME" 2>/dev/null; then
    log "cannot use $CODEX_HOME as user $(id -u) (a bind mount owned by another user? chown -R $(id -u):$(id -g) it); skipping login bootstrap"
    return 1
  fi
  # `codex` run by hand (docker exec … codex login) uses ~/.codex: point it at the same home.
  if [ -n "${HOME:-}" ] && [ -d "$HOME" ] && [ -w "$HOME" ]; then
    if [ -d "$HOME/.codex" ] && [ ! -L "$HOME/.codex" ]; then
      if [ -z "$(ls -A "$CODEX_HOME")" ]; then
        cp -R "$HOME/.codex/." "$CODEX_HOME/"
        log "migrated $HOME/.codex into $CODEX_HOME"
      fi
      rm -rf "$HOME/.codex"
    fi
    ln -sfn "$CODEX_HOME" "$HOME/.codex"
  fi
}

codex_logged_in() {
  codex login status >/dev/null 2>&1
}

restore_auth_file() {
  target="$CODEX_HOME/auth.json"
  if [ -n "${RUSTY_PINCH_CODEX_CHATGPT_AUTH_FILE:-}" ]; then
    if [ -r "$RUSTY_PINCH_CODEX_CHATGPT_AUTH_FILE" ]; then
      (umask 077 && cp "$RUSTY_PINCH_CODEX_CHATGPT_AUTH_FILE" "$target")
      chmod 600 "$target"
      log "restored auth.json from RUSTY_PINCH_CODEX_CHATGPT_AUTH_FILE"
    else
      log "RUSTY_PINCH_CODEX_CHATGPT_AUTH_FILE is not readable; skipped"
    fi
  elif [ -n "${RUSTY_PINCH_CODEX_CHATGPT_AUTH_JSON_B64:-}" ]; then
    if (umask 077 && printf '%s' "$RUSTY_PINCH_CODEX_CHATGPT_AUTH_JSON_B64" | base64 -d >"$target.tmp" 2>/dev/null); then
      mv "$target.tmp" "$target"
      chmod 600 "$target"
      log "restored auth.json from RUSTY_PINCH_CODEX_CHATGPT_AUTH_JSON_B64"
    else
      rm -f "$target.tmp"
      log "RUSTY_PINCH_CODEX_CHATGPT_AUTH_JSON_B64 is not valid base64; skipped"
    fi
  fi
}

login_chatgpt() {
  restore_auth_file
  if codex_logged_in; then
    return 0
  fi
  if ! truthy "${RUSTY_PINCH_CODEX_CHATGPT_DEVICE_AUTH:-true}"; then
    log "device auth disabled (RUSTY_PINCH_CODEX_CHATGPT_DEVICE_AUTH=false)"
    return 0
  fi
  secs="${RUSTY_PINCH_CODEX_LOGIN_TIMEOUT_SECS:-300}"
  case "$secs" in
    '' | *[!0-9]*) log "RUSTY_PINCH_CODEX_LOGIN_TIMEOUT_SECS='$secs' is not a number; using 300"; secs=300 ;;
  esac
  log "starting device auth (up to ${secs}s): open the URL below and enter the code"
  if command -v timeout >/dev/null 2>&1; then
    timeout "$secs" codex login --device-auth || log "device auth did not complete"
  else
    codex login --device-auth || log "device auth did not complete"
  fi
}

login_api_key() {
  key_env="${RUSTY_PINCH_CODEX_AUTO_LOGIN_API_KEY_ENV:-RUSTY_PINCH_OPENAI_API_KEY}"
  case "$key_env" in
    '' | [0-9]* | *[!A-Za-z0-9_]*) log "RUSTY_PINCH_CODEX_AUTO_LOGIN_API_KEY_ENV is not a variable name; skipped"; return 0 ;;
  esac
  if [ -z "$(printenv "$key_env" || true)" ]; then
    log "$key_env is empty; cannot log in with an API key"
    return 0
  fi
  # The key goes through a pipe, never onto a command line.
  printenv "$key_env" | codex login --with-api-key >/dev/null 2>&1 || log "codex login --with-api-key failed"
}

bootstrap_codex() {
  if [ "$(lower "${RUSTY_PINCH_PROVIDER:-codex}")" != codex ] || ! truthy "${RUSTY_PINCH_CODEX_ENABLED:-true}"; then
    return 0
  fi
  if ! command -v codex >/dev/null 2>&1; then
    log "codex CLI not on PATH (build with RUSTY_PINCH_INSTALL_CODEX_CLI=true); skipping login bootstrap"
    return 0
  fi
  ensure_codex_home || return 0
  if codex_logged_in; then
    log "codex auth ready ($CODEX_HOME)"
    return 0
  fi
  if ! truthy "${RUSTY_PINCH_CODEX_AUTO_LOGIN:-true}"; then
    log "codex not logged in and RUSTY_PINCH_CODEX_AUTO_LOGIN=false; continuing"
    return 0
  fi
  mode="$(lower "${RUSTY_PINCH_CODEX_AUTO_LOGIN_MODE:-chatgpt}")"
  case "$mode" in
    chatgpt) login_chatgpt ;;
    api-key | api_key | apikey) login_api_key ;;
    off | none | disabled) log "auto login off (RUSTY_PINCH_CODEX_AUTO_LOGIN_MODE=$mode)" ;;
    *) log "unknown RUSTY_PINCH_CODEX_AUTO_LOGIN_MODE='$mode' (expected chatgpt, api-key or off)" ;;
  esac
  if codex_logged_in; then
    log "codex auth ready ($CODEX_HOME)"
  else
    log "codex still not logged in; run: codex login --device-auth (inside the container)"
  fi
}

bootstrap_codex
exec rusty-pinch "$@"
