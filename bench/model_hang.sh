#!/usr/bin/env bash
# Time to albums when the model hangs: `momentarium organize` on the demo's sample photos,
# with Gemini pointed at a server that accepts every request and never answers, twice in
# one run: with the job deadline and the circuit breaker set out of reach (as before they
# existed), then with their defaults.   ./bench/model_hang.sh [GEMINI_TIMEOUT_SECS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/infra/lib.sh"
timeout_s="${1:-20}"
ensure_postgres
admin="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Accepts, reads, never answers: a model that hangs.
python3 -c '
import socket, sys, threading, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
def hold(c):
    try:
        c.recv(1 << 20); time.sleep(3600)
    except OSError:
        pass
while True:
    c, _ = s.accept(); threading.Thread(target=hold, args=(c,), daemon=True).start()
' "$port" &
hang=$!
trap 'kill $hang 2>/dev/null || true; rm -rf "$work"' EXIT

# The sample photos, organised once offline to write them.
(cd "$work" && MOMENTARIUM_DATA_DIR="$work/data0" "$root/infra/run.sh" demo >/dev/null)
photos="$work/momentarium-demo"

run() {
    local name=$1; shift
    local db="momentarium_hang_$name"
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    local started=$SECONDS
    env "$@" DATABASE_URL="${admin%/*}/$db" MOMENTARIUM_DATA_DIR="$work/data-$name" \
        GEMINI_API_KEY=hang GEMINI_BASE_URL="http://127.0.0.1:$port" \
        GEMINI_TIMEOUT_SECS="$timeout_s" RUST_LOG=error \
        "$root/infra/run.sh" organize --force-upload "$photos" > "$work/$name.out"
    local took=$((SECONDS - started))
    echo "$name: albums after ${took} s"
    grep -m1 -i "organiser\|offline" "$work/$name.out" || true
    psql -qAt "${admin%/*}/$db" -c "SELECT 'job: ' || status || ', ' || attempts || ' deliveries, ' || coalesce(fallback_reason, '') FROM processing_jobs"
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
}

run before JOB_DEADLINE_SECS=100000 MODEL_CIRCUIT_FAILURES=100000
run after
