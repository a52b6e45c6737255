#!/usr/bin/env bash
# Runs the `momentarium` command — `demo`, `organize <folder>`, `serve`, `token <name>` — after
# making sure PostgreSQL is on the machine (installed from Debian's packages if there is
# none). Momentarium then uses DATABASE_URL, or the server on 127.0.0.1:5432, or starts a
# private one under its data directory by itself.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/infra/lib.sh"

has_initdb() {
    command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

if [ -z "${DATABASE_URL:-}" ] && ! pg_up && ! has_initdb; then
    log "PostgreSQL is not installed; installing it from Debian's packages"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
fi

# Optimised code (the `local` profile: release without LTO, 16 codegen units), since
# organising decodes and hashes every photo; the first build takes a few minutes and is
# reused afterwards.
ensure_build_deps
target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/local/momentarium"
if [ ! -x "$bin" ]; then
    log "building Momentarium: its own crates and the image crates optimised, the rest as a dev build (cargo calls the profile [unoptimized]); the first build takes about five minutes"
    cargo build --manifest-path "$root/Cargo.toml" --profile local -p momentarium
else
    cargo build --quiet --manifest-path "$root/Cargo.toml" --profile local -p momentarium
fi
exec "$bin" "$@"
