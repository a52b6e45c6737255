#!/usr/bin/env bash
# What the per-minute limit check adds to a request: wrk against `momentarium serve`
# (bench profile) for job-status with the limits on and off, alternating, twice each; and
# pgbench running the limit's one statement alone as its floor.
#   ./bench/limits.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/infra/lib.sh"
secs="${1:-15}"; conns="${2:-16}"
ensure_postgres
command -v wrk >/dev/null || { as_root apt-get update -qq; as_root apt-get install -y -qq wrk >/dev/null; }

db=momentarium_limits
admin="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
url="${admin%/*}/$db"

cargo build --quiet --profile bench --manifest-path "$root/Cargo.toml" -p momentarium
bin="${CARGO_TARGET_DIR:-$root/target}/release/momentarium"
data=$(mktemp -d)
server=
trap 'kill $server 2>/dev/null || true; rm -rf "$data"; psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null' EXIT

DATABASE_URL="$url" RUST_LOG=warn "$bin" --data-dir "$data" migrate
read -r job gallery < <(psql -qAt -F ' ' "$url" -f "$root/bench/sql/seed.sql" | tail -1)
token=$(DATABASE_URL="$url" "$bin" --data-dir "$data" token loadtest)
# Limits high enough that wrk never meets them: the cost of counting, not of refusing.
limits='{"free": {"readPerMinute": 2000000000, "writePerMinute": 300, "aiPerMinute": 30, "photosPerDay": 1000, "generationsPerDay": 20, "storageBytes": 10737418240, "monthlyBudgetUsd": 2}}'

start() { # RATE_LIMITS value
    DATABASE_URL="$url" DATABASE_POOL_SIZE=8 RUST_LOG=warn RATE_LIMITS="$1" TIER_LIMITS="$limits" \
        "$bin" --data-dir "$data" serve --listen 127.0.0.1:3998 --s3-listen 127.0.0.1:9398 &
    server=$!
    for _ in $(seq 1 100); do curl -sf 127.0.0.1:3998/api/health >/dev/null && break; sleep 0.1; done
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=; }

row() { # label RATE_LIMITS
    local out p50 p99 rps target="http://127.0.0.1:3998/api/jobs/$job/status"
    start "$2"
    curl -sf -o /dev/null -H "Authorization: Bearer $token" "$target"
    if [ "$2" = true ]; then
        curl -sfI -H "Authorization: Bearer $token" "$target" -X GET | grep -qi '^ratelimit:' \
            || { echo "no RateLimit header with the limits on" >&2; exit 1; }
    fi
    out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" "$target")
    stop
    if grep -q "Non-2xx" <<<"$out"; then echo "wrk saw non-2xx answers:" >&2; echo "$out" >&2; exit 1; fi
    p50=$(awk '$1=="50%"{print $2}' <<<"$out"); p99=$(awk '$1=="99%"{print $2}' <<<"$out")
    rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    echo "| job-status, $1 | $p50 | $p99 | $rps |"
}

echo "| what (wrk, $conns connections, ${secs}s, one user) | p50 | p99 | requests/s |"
echo "| --- | --- | --- | --- |"
row "limits off" false
row "limits on" true
row "limits off, again" false
row "limits on, again" true

user=$(psql -qAt "$url" -c "SELECT id FROM users WHERE subject = 'loadtest'")
cat > "$data/take.sql" <<SQL
WITH pick AS (SELECT shard FROM rate_windows
    WHERE user_id = '$user' AND class = 'read' AND window_start = date_trunc('minute', now()) AND used < cap
    ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED)
UPDATE rate_windows w SET used = w.used + 1 FROM pick
WHERE w.user_id = '$user' AND w.class = 'read' AND w.window_start = date_trunc('minute', now()) AND w.shard = pick.shard
RETURNING (SELECT sum(used)::integer + 1 FROM rate_windows WHERE user_id = '$user' AND class = 'read' AND window_start = date_trunc('minute', now())),
          (SELECT sum(cap)::integer FROM rate_windows WHERE user_id = '$user' AND class = 'read' AND window_start = date_trunc('minute', now()));
SQL
# The minute's shards, as the first request of a minute makes them.
psql -q "$url" -c "INSERT INTO rate_windows SELECT '$user', 'read', date_trunc('minute', now()) + make_interval(mins => m), s, 125000000, 0 FROM generate_series(0, 15) s, generate_series(0, 2) m ON CONFLICT DO NOTHING"
out=$(pgbench -n -c 1 -T "$secs" -f "$data/take.sql" "$url" 2>&1)
lat=$(awk -F'= ' '/latency average/{print $2}' <<<"$out"); tps=$(awk -F'= ' '/^tps/{print $2}' <<<"$out" | awk '{print $1}')
echo "| the limit's statement alone (pgbench, 1 connection) | $lat (average) | | $tps |"
