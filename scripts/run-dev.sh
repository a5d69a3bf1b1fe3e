#!/usr/bin/env bash
# Development run: the web server and the scheduler side by side; Ctrl-C stops both.
set -euo pipefail
BIN=$1 HOST=$2 PORT=$3
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait; }
trap cleanup EXIT INT TERM
# Where this server listens, for `flask invite` and the demo run from another shell (coach/config.py).
instance=${COACH_INSTANCE_PATH:-instance}
(umask 077 && printf '%s\n' "${COACH_BASE_URL:-http://$HOST:$PORT}" > "$instance/base_url")
if "$BIN/flask" --app coach scheduler --help >/dev/null 2>&1; then
  "$BIN/flask" --app coach scheduler &
  pids+=($!)
fi
"$BIN/flask" --app coach run --host "$HOST" --port "$PORT" &
pids+=($!)
wait -n
