#!/usr/bin/env bash
# Runs the `momentarium` command — `organize <folder>`, `serve`, `token <name>` — after
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

exec cargo run --quiet --manifest-path "$root/Cargo.toml" -p momentarium -- "$@"
