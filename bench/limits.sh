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

row() { # label RATE_LIMITS CONNECTIONS
    local out p50 p99 rps target="http://127.0.0.1:3998/api/jobs/$job/status" c="$3" t=2
    [ "$c" -ge 2 ] || t=1
    start "$2"
    curl -sf -o /dev/null -H "Authorization: Bearer $token" "$target"
    if [ "$2" = true ]; then
        curl -sfI -H "Authorization: Bearer $token" "$target" -X GET | grep -qi '^ratelimit:' \
            || { echo "no RateLimit header with the limits on" >&2; exit 1; }
    fi
    out=$(wrk -t"$t" -c"$c" -d"${secs}s" --latency -H "Authorization: Bearer $token" "$target")
    stop
    if grep -q "Non-2xx" <<<"$out"; then echo "wrk saw non-2xx answers:" >&2; echo "$out" >&2; exit 1; fi
    p50=$(awk '$1=="50%"{print $2}' <<<"$out"); p99=$(awk '$1=="99%"{print $2}' <<<"$out")
    rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    echo "| job-status, $c connection(s), $1 | $p50 | $p99 | $rps |"
}

echo "| what (wrk, 2 threads, one user) | p50 | p99 | requests/s |"
echo "| --- | --- | --- | --- |"
for c in 1 "$conns"; do
    row "limits off" false "$c"
    row "limits on" true "$c"
    row "limits off, again" false "$c"
    row "limits on, again" true "$c"
done

# The limit's statement as every request runs it: the user lookup with the count folded in.
cat > "$data/take.sql" <<SQL
WITH u AS (SELECT id, CASE tier WHEN 'premium' THEN 2000000000 ELSE 2000000000 END AS l FROM users WHERE subject = 'loadtest'),
     counted AS (INSERT INTO rate_windows AS w (user_id, class, window_start, used)
         SELECT id, 'read', date_trunc('minute', now()), 1 FROM u WHERE l >= 1
         ON CONFLICT (user_id, class, window_start) DO UPDATE SET used = w.used + 1
         WHERE w.used < (SELECT l FROM u) RETURNING used)
SELECT u.id, u.l, (SELECT used FROM counted) FROM u;
SQL
cat > "$data/lookup.sql" <<SQL
SELECT id FROM users WHERE subject = 'loadtest';
SQL
out=$(pgbench -n -c 1 -T "$secs" -f "$data/lookup.sql" "$url" 2>&1)
lat=$(awk -F'= ' '/latency average/{print $2}' <<<"$out"); tps=$(awk -F'= ' '/^tps/{print $2}' <<<"$out" | awk '{print $1}')
echo "| the user lookup every request makes, alone (pgbench, 1 connection) | $lat (average) | | $tps |"
out=$(pgbench -n -c 1 -T "$secs" -f "$data/take.sql" "$url" 2>&1)
lat=$(awk -F'= ' '/latency average/{print $2}' <<<"$out"); tps=$(awk -F'= ' '/^tps/{print $2}' <<<"$out" | awk '{print $1}')
echo "| the lookup with the count folded in (pgbench, 1 connection) | $lat (average) | | $tps |"
