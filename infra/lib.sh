# Shared helpers for Momentarium's scripts. Source it; do not run it.

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root for: $*"; return 1; fi
}

pg_up() {
    if command -v pg_isready >/dev/null; then
        pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null
    else
        (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
    fi
}

# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 and that TEST_DATABASE_URL
# (default postgres://postgres@127.0.0.1:5432/postgres) can create databases.
ensure_postgres() {
    if [ -n "${TEST_DATABASE_URL:-}" ]; then return 0; fi
    if ! command -v pg_isready >/dev/null || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
        if ! pg_up; then
            log "installing PostgreSQL from Debian's packages"
            as_root apt-get update -qq
            DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
        fi
    fi
    if ! pg_up; then
        log "starting PostgreSQL"
        local version
        version=$(ls /etc/postgresql | sort -V | tail -1)
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        for _ in $(seq 1 30); do pg_up && break; sleep 1; done
    fi
    if ! pg_up; then
        log "PostgreSQL does not answer on 127.0.0.1:5432; start it or set TEST_DATABASE_URL"
        return 1
    fi
    # Debian's default asks for a password on TCP; give the postgres role a known one.
    if ! psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
        if PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
            :
        else
            log "setting a password for the postgres role (local test server)"
            as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
        fi
        export TEST_DATABASE_URL="postgres://postgres:postgres@127.0.0.1:5432/postgres"
    fi
}

# Python tools the tests talk to (moto's SQS server, independent signers, Playwright). Installed into
# the user's Python with pip when missing.
ensure_python_tools() {
    local missing=()
    command -v moto_server >/dev/null || missing+=("moto[server]")
    python3 -c "import standardwebhooks" 2>/dev/null || missing+=("standardwebhooks")
    python3 -c "import qstash, jwt" 2>/dev/null || missing+=("qstash")
    command -v cfn-lint >/dev/null || missing+=("cfn-lint")
    command -v sam >/dev/null || missing+=("aws-sam-cli")
    # Drives Debian's chromium in the web app's browser test (no browser download).
    python3 -c "import playwright" 2>/dev/null || missing+=("playwright")
    if [ ${#missing[@]} -gt 0 ]; then
        if ! command -v pip3 >/dev/null && ! command -v pip >/dev/null; then
            log "installing pip from Debian's packages"
            as_root apt-get update -qq
            DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-pip >/dev/null
        fi
        log "installing ${missing[*]} with pip"
        local pip=pip3; command -v pip3 >/dev/null || pip=pip
        $pip install -q "${missing[@]}" 2>/dev/null \
            || $pip install -q --break-system-packages "${missing[@]}"
        hash -r
    fi
}

# Debian packages the tests use: curl (a client independent of ours) and chromium (the
# gallery page is checked in a real headless browser).
# What the build links: libheif (HEIC decoding), found through pkg-config.
ensure_build_deps() {
    if ! pkg-config --exists libheif 2>/dev/null; then
        log "installing libheif-dev and pkg-config from Debian's packages (HEIC decoding)"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq pkg-config libheif-dev >/dev/null
    fi
}

# What the web app's browser test injects into the page (axe-core), from the npm registry
# with the lockfile; npm from Debian's packages when absent.
ensure_web_test_deps() {
    local dir=cli/tests/web
    [ -f "$dir/node_modules/axe-core/axe.min.js" ] && return 0
    if ! command -v npm >/dev/null; then
        log "installing npm from Debian's packages (the browser test's accessibility check)"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq npm >/dev/null
    fi
    log "installing axe-core with npm"
    (cd "$dir" && npm ci --no-audit --no-fund --silent)
}

ensure_debian_tools() {
    local missing=()
    command -v curl >/dev/null || missing+=(curl)
    command -v chromium >/dev/null || missing+=(chromium)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]} from Debian's packages"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}
