#!/usr/bin/env bash
# Proves HEIC decoding works in an arm64 build with the Lambda layer's libheif, on this
# x86_64 machine: the HEIC integration test (tests/tests/heic.rs: real HEIC files, their
# renditions made through the in-process S3 server, orientation, EXIF time and GPS) built
# for aarch64 with zig, as cargo-lambda builds the functions, linked against the sysroot
# of ./infra/heif-layer.sh, and run under qemu-aarch64 with the layer's libraries first on
# the loader's path (as /opt/lib is on Lambda) and Debian's arm64 glibc and libstdc++
# beneath them (Lambda's own come from Amazon Linux 2023; heif-layer.sh checks the symbol
# versions against it).   ./infra/arm64-heic-check.sh   (needs the tests' PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source infra/lib.sh
ensure_postgres
command -v qemu-aarch64-static >/dev/null || {
    log "installing qemu-user-static from Debian's packages"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq qemu-user-static >/dev/null
}
command -v cargo-zigbuild >/dev/null || {
    log "installing cargo-zigbuild with pip"
    pip3 install -q cargo-zigbuild 2>/dev/null || pip3 install -q --break-system-packages cargo-zigbuild
    hash -r
}
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu \
    || rustup target add aarch64-unknown-linux-gnu
./infra/heif-layer.sh --with-libc

log "building tests/tests/heic.rs for aarch64 (zig, glibc 2.17 symbols, as cargo-lambda does)"
test_bin=$(cargo zigbuild --quiet --locked --target aarch64-unknown-linux-gnu.2.17 \
    -p momentarium-tests --test heic --message-format json \
    | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "heic":
        print(m["executable"])')
file "$test_bin" | grep -q 'ARM aarch64' || { log "$test_bin is not an arm64 binary"; exit 1; }

sysroot=$root/build/heif-arm64/sysroot
export QEMU_LD_PREFIX=$sysroot
export LD_LIBRARY_PATH=$root/build/heif-arm64/layer/lib:$sysroot/usr/lib/aarch64-linux-gnu:$sysroot/lib/aarch64-linux-gnu
log "the libraries the arm64 test binary loads:"
loaded=$(LD_TRACE_LOADED_OBJECTS=1 qemu-aarch64-static "$test_bin")
grep -E 'heif|de265|stdc|libc\.' <<<"$loaded" >&2
grep -q "libheif.so.1 => $root/build/heif-arm64/layer/lib/libheif.so.1" <<<"$loaded" \
    || { log "libheif did not come from the layer"; exit 1; }
log "running it under qemu-aarch64"
qemu-aarch64-static "$test_bin" --test-threads 1
