#!/usr/bin/env bash
# Image preparation, Momentarium against sharp (libvips), on the same photos, in one run.
#   ./bench/prepare.sh [FOLDER]   (default: ../shared/fixtures/photos/phone)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(cd "${1:-$root/../shared/fixtures/photos/phone}" && pwd)"

echo "## Momentarium (Rust)"
cargo bench --quiet --manifest-path "$root/Cargo.toml" -p momentarium-tests --bench prepare -- "$dir"

echo
echo "## sharp $(cd "$root/bench/sharp" && { [ -d node_modules/sharp ] || npm install --silent --no-audit --no-fund >/dev/null; } && node -p 'require("sharp/package.json").version') (libvips), same photos"
cd "$root/bench/sharp"
one=$(UV_THREADPOOL_SIZE=1 node prepare.mjs "$dir" one)
three=$(UV_THREADPOOL_SIZE=1 node prepare.mjs "$dir" renditions)
all=$(node prepare.mjs "$dir" all)
batch=$(UV_THREADPOOL_SIZE=4 node prepare.mjs "$dir" batch)
node -e '
const [one, all, batch, three] = process.argv.slice(1).map(JSON.parse);
const f = (x) => x.toFixed(1);
console.log("| variant | ms per photo, one core (min / median / max) | photos/s, one core | photos/s, all cores |");
console.log("| --- | --- | --- | --- |");
console.log(`| sharp: rotate + resize (lanczos3, shrink-on-load) + jpeg q80 | ${f(one.min)} / ${f(one.median)} / ${f(one.max)} | ${f(one.perSecond)} | ${f(all.perSecond)} (${all.cores} cores) |`);
console.log(`| sharp: renditions 1600 + 768 + 360 px, three outputs of one pipeline via clone() | ${f(three.min)} / ${f(three.median)} / ${f(three.max)} | ${f(three.perSecond)} | |`);
console.log(`\n50-photo batch, 4 at a time: peak RSS ${f(batch.peakKiB / 1024)} MiB (process baseline ${f(batch.baselineKiB / 1024)} MiB); ${(batch.sentBytes / 1048576).toFixed(2)} MiB of JPEG sent`);
' "$one" "$all" "$batch" "$three"
