#!/usr/bin/env bash
# `make run`: the local identity provider (dev/idp, port 9000), the demo API (port 9001) and the app,
# configured for them by the app's bundled defaults. Ctrl-C (or closing the app) stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
IDP_PORT=9000
API_PORT=9001

for port in "$IDP_PORT" "$API_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "Port $port on 127.0.0.1 is in use; stop what runs there (an earlier 'make run'?) and try again." >&2
    exit 1
  fi
done

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

ready="$(mktemp)"
rm -f "$ready"
# Keys, grants and sessions in a folder of the user's cache: stopping and starting `make run` keeps the
# app signed in and the API answering.
idp_data="${XDG_CACHE_HOME:-$HOME/.cache}/tauri-okta-signin/idp"
# Pushed authorization requests on, as an Okta custom authorization server offers them: the app pushes.
PORT=$IDP_PORT IDP_READY_FILE="$ready" IDP_DATA_DIR="$idp_data" IDP_PAR=on node dev/idp/src/index.js &
pids+=($!)
for _ in $(seq 100); do [ -s "$ready" ] && break; sleep 0.1; done
[ -s "$ready" ] || { echo "dev/idp did not start" >&2; exit 1; }
issuer="$(cat "$ready")"
rm -f "$ready"

ISSUER="$issuer" CLIENT_IDS=0oa1localnative0001 PORT=$API_PORT "$target/debug/demo-api" &
pids+=($!)

echo
echo "Identity provider: $issuer   (user: demo, password: demo; data: $idp_data)"
echo "Demo API:          http://127.0.0.1:$API_PORT/"
echo "Starting the app; Ctrl-C stops everything."
echo
# In the background with `wait`, so a signal reaches the trap at once and stops all three.
"$target/debug/okta-signin-app" &
app=$!
pids+=("$app")
wait "$app"
