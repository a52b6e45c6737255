#!/usr/bin/env bash
# The API under load on this machine: wrk against `momentarium serve` (bench profile) for
# job-status and get-gallery of a 1,000-photo, 40-album gallery; pgbench running the
# handlers' SQL on the same data as the floor.   ./bench/load.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/infra/lib.sh"
secs="${1:-15}"; conns="${2:-16}"
ensure_postgres
command -v wrk >/dev/null || { as_root apt-get update -qq; as_root apt-get install -y -qq wrk >/dev/null; }

db=momentarium_load
admin="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
url="${admin%/*}/$db"

cargo build --quiet --profile bench --manifest-path "$root/Cargo.toml" -p momentarium
bin="${CARGO_TARGET_DIR:-$root/target}/release/momentarium"
data=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$data"; psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null' EXIT

DATABASE_URL="$url" RUST_LOG=warn "$bin" --data-dir "$data" migrate
read -r job gallery < <(psql -qAt -F ' ' "$url" -f "$root/bench/sql/seed.sql" | tail -1)
token=$(DATABASE_URL="$url" "$bin" --data-dir "$data" token loadtest)

DATABASE_URL="$url" DATABASE_POOL_SIZE=8 RUST_LOG=warn "$bin" --data-dir "$data" serve \
    --listen 127.0.0.1:3999 --s3-listen 127.0.0.1:9399 &
server=$!
for _ in $(seq 1 100); do curl -sf 127.0.0.1:3999/api/health >/dev/null && break; sleep 0.1; done

row() { # name url
    local out p50 p99 rps code
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$2")
    [ "$code" = 200 ] || { echo "$2 answered $code, not 200" >&2; return 1; }
    out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" "$2")
    if grep -q "Non-2xx" <<<"$out"; then echo "wrk saw non-2xx answers:" >&2; echo "$out" >&2; return 1; fi
    p50=$(awk '$1=="50%"{print $2}' <<<"$out"); p99=$(awk '$1=="99%"{print $2}' <<<"$out")
    rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    echo "| $1 over HTTP (wrk, $conns connections, ${secs}s) | $p50 | $p99 | $rps |"
}
floor() { # name sql-file var=value
    local out lat tps
    out=$(pgbench -n -c 1 -T "$secs" -D "$3" -f "$2" "$url" 2>&1) || { echo "pgbench failed: $out" >&2; return 1; }
    lat=$(awk -F'= ' '/latency average/{print $2}' <<<"$out"); tps=$(awk -F'= ' '/^tps/{print $2}' <<<"$out" | awk '{print $1}')
    echo "| $1 SQL alone (pgbench, 1 connection) | $lat (average) | | $tps |"
}

echo "| what | p50 | p99 | requests/s |"
echo "| --- | --- | --- | --- |"
row "job-status" "http://127.0.0.1:3999/api/jobs/$job/status"
floor "job-status" "$root/bench/sql/job_status.sql" "job='$job'"
row "get-gallery (1,000 photos, 3 URLs each)" "http://127.0.0.1:3999/api/galleries/$gallery"
row "get-gallery, first page of 100 photos" "http://127.0.0.1:3999/api/galleries/$gallery?limit=100"
floor "get-gallery (1,000 photos)" "$root/bench/sql/gallery.sql" "gallery='$gallery'"
