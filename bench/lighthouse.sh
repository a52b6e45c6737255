#!/usr/bin/env bash
# Lighthouse (npm, pinned in bench/lighthouse/package.json) against the web app's gallery
# page of 200 photos, in Debian's chromium: performance and accessibility, mobile (Lighthouse's
# default: a mid-range phone, throttled 4G and CPU) and desktop. `momentarium serve` (local
# profile) with its own database; the photos from the tests' `photo_folder` generator, one
# gallery of them made through the public API (bench/lighthouse/seed.py), signed in by
# putting the token where the page keeps it.
#   ./bench/lighthouse.sh [PHOTOS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/infra/lib.sh"
photos="${1:-200}"
ensure_postgres
ensure_debian_tools
ensure_python_tools
(cd "$root/bench/lighthouse" && [ -x node_modules/.bin/lighthouse ] || npm ci --no-audit --no-fund --silent)

db=momentarium_lighthouse
admin="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
url="${admin%/*}/$db"
cargo build --quiet --profile local --manifest-path "$root/Cargo.toml" -p momentarium
bin="${CARGO_TARGET_DIR:-$root/target}/local/momentarium"
work=$(mktemp -d)
cleanup() {
    [ -n "${LIGHTHOUSE_KEEP:-}" ] && { log "keeping serve at $base for $LIGHTHOUSE_KEEP s"; sleep "$LIGHTHOUSE_KEEP"; }
    kill "$server" "$chrome" 2>/dev/null || true
    wait "$server" "$chrome" 2>/dev/null || true
    rm -rf "$work"
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
}
server=""; chrome=""
reports="$root/target/lighthouse"
mkdir -p "$reports"
trap cleanup EXIT
base=http://127.0.0.1:3997
DATABASE_URL="$url" MAX_BATCH_SIZE="$photos" RUST_LOG=warn "$bin" --data-dir "$work/data" serve \
    --listen 127.0.0.1:3997 --s3-listen 127.0.0.1:9397 &
server=$!
for _ in $(seq 1 100); do curl -sf "$base/api/health" >/dev/null && break; sleep 0.1; done
token=$(DATABASE_URL="$url" "$bin" --data-dir "$work/data" token lighthouse)
log "making a gallery of $photos photos through the API"
cargo run --quiet --profile local --manifest-path "$root/Cargo.toml" -p momentarium-tests \
    --example photo_folder -- "$work/photos" "$photos" >/dev/null
gallery=$(python3 "$root/bench/lighthouse/seed.py" "$base" "$token" "$work/photos")

chromium --headless=new --no-sandbox --disable-dev-shm-usage --remote-debugging-port=9229 \
    --user-data-dir="$work/profile" about:blank >/dev/null 2>&1 &
chrome=$!
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:9229/json/version >/dev/null && break; sleep 0.2; done
python3 - "$base" "$token" <<'PY'
import sys
from playwright.sync_api import sync_playwright
base, token = sys.argv[1], sys.argv[2]
with sync_playwright() as p:
    browser = p.chromium.connect_over_cdp("http://127.0.0.1:9229")
    page = browser.contexts[0].new_page()
    page.goto(base)
    page.evaluate("t => localStorage.setItem('momentarium.token', t)", token)
    page.close()
PY

echo "| form | performance | accessibility | FCP | LCP | TBT | CLS | thumbnails loaded | originals loaded |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for form in mobile desktop; do
    preset=()
    [ "$form" = desktop ] && preset=(--preset=desktop)
    "$root/bench/lighthouse/node_modules/.bin/lighthouse" "$base/#/g/$gallery" --port=9229 \
        --disable-storage-reset --only-categories=performance,accessibility "${preset[@]}" \
        --output=json --output-path="$reports/$form.json" --quiet
    python3 - "$reports/$form.json" "$form" "$photos" <<'PY'
import json, sys
report, form, photos = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
a = report["audits"]
requests = a["network-requests"]["details"]["items"]
images = [r for r in requests if r.get("resourceType") == "Image"]
originals = [r for r in images if "/uploads/" in r["url"]]
thumbs = [r for r in images if r["url"].split("?")[0].endswith("/thumb.jpg")]
print(
    f"| {form} | {round(report['categories']['performance']['score'] * 100)} "
    f"| {round(report['categories']['accessibility']['score'] * 100)} "
    f"| {a['first-contentful-paint']['displayValue']} | {a['largest-contentful-paint']['displayValue']} "
    f"| {a['total-blocking-time']['displayValue']} | {a['cumulative-layout-shift']['displayValue']} "
    f"| {len(thumbs)} of {photos} | {len(originals)} |"
)
PY
done
