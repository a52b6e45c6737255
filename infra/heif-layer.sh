#!/usr/bin/env bash
# libheif for the arm64 Lambda functions: Debian bookworm's own arm64 build of libheif and
# the libraries it loads, taken from Debian's packages, checked to run on Lambda's
# provided.al2023 (glibc 2.34), and laid out twice under build/heif-arm64/:
#
#   layer/lib/   the Lambda layer `HeifLayer` in template.yaml (Lambda puts it at /opt/lib,
#                which is on the dynamic loader's path for provided.al2023 functions);
#   sysroot/     what the arm64 build links against: headers, libheif.so and its
#                pkg-config file; .cargo/config.toml points pkg-config there for the
#                aarch64-unknown-linux-gnu target, so `sam build` (cargo lambda build
#                --arm64) finds it with no variables to set.
#
# Run it once before `sam build`. It needs Debian's apt and root (it adds arm64 as a
# foreign architecture so apt can download those packages; nothing arm64 is installed on
# this machine). `--with-libc` also unpacks Debian's arm64 glibc into the sysroot, for
# running arm64 binaries here under qemu (infra/arm64-heic-check.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source infra/lib.sh

out=build/heif-arm64
# libheif and every library it loads but the system's own (checked below, not assumed).
runtime=(libheif1 libde265-0 libx265-199 libnuma1 libdav1d6 libaom3 zlib1g)
# Linked against, not shipped: the packages whose pkg-config files libheif.pc requires, and
# Debian's C++ runtime, which needs glibc 2.35/2.36, newer than Lambda's, so the layer
# uses the one Amazon Linux 2023 ships (GCC 11's).
link=(libheif-dev libde265-dev libx265-dev libaom-dev libdav1d-dev libstdc++6 libgcc-s1)
[ "${1:-}" = --with-libc ] && link+=(libc6)
# What provided.al2023 (Amazon Linux 2023) supplies: glibc 2.34 and GCC 11's C++ runtime,
# whose newest symbol versions are GLIBCXX_3.4.29 and CXXABI_1.3.13.
system_own='^(libc|libm|libdl|libpthread|librt|ld-linux-aarch64|libstdc\+\+|libgcc_s)\.so'
max_glibc=2.34
max_glibcxx=3.4.29
max_cxxabi=1.3.13

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    log "adding arm64 as a foreign architecture for apt (downloads only)"
    as_root dpkg --add-architecture arm64
    as_root apt-get update -qq
elif ! apt-cache show libheif1:arm64 >/dev/null 2>&1; then
    as_root apt-get update -qq
fi

debs=$(mktemp -d)
trap 'rm -rf "$debs"' EXIT
log "downloading ${runtime[*]} ${link[*]} (arm64) from Debian"
(cd "$debs" && apt-get download -qq "${runtime[@]/%/:arm64}" "${link[@]/%/:arm64}")

rm -rf "$out"
mkdir -p "$out/sysroot" "$out/layer/lib"
for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$out/sysroot"; done
libdir="$out/sysroot/usr/lib/aarch64-linux-gnu"
# The layer: each runtime package's shared libraries, each under its soname.
for package in "${runtime[@]}"; do
    files=$(dpkg-deb -c "$debs/${package}"_*_arm64.deb | grep '^-' | awk '{print $NF}' \
        | grep -E '/lib/aarch64-linux-gnu/[^/]+\.so(\.[0-9]+)+$' || true)
    [ -n "$files" ] || { log "no shared library in $package"; exit 1; }
    for path in $files; do
        soname=$(readelf -d "$out/sysroot/${path#./}" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
        cp "$out/sysroot/${path#./}" "$out/layer/lib/${soname:-$(basename "$path")}"
    done
done

# Their licences travel with them (libx265 is GPL-2, the others LGPL or BSD-style).
for package in "${runtime[@]}"; do
    mkdir -p "$out/layer/licenses/$package"
    cp "$out/sysroot/usr/share/doc/$package/copyright" "$out/layer/licenses/$package/"
done

# Every library the layer's libraries load is in the layer or is the system's, and none asks
# for a symbol version newer than Amazon Linux 2023's.
newer() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1)" != "$2" ]; }
status=0
for lib in "$out"/layer/lib/*; do
    while read -r needed; do
        if [ ! -e "$out/layer/lib/$needed" ] && ! [[ $needed =~ $system_own ]]; then
            log "$(basename "$lib") loads $needed, which is neither in the layer nor the system's"
            status=1
        fi
    done < <(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    versions=$(readelf -V "$lib")
    for pair in GLIBC:$max_glibc GLIBCXX:$max_glibcxx CXXABI:$max_cxxabi; do
        name=${pair%%:*} ceiling=${pair#*:}
        newest=$(grep -oE "\b${name}_[0-9.]+" <<<"$versions" | sed "s/${name}_//" | sort -V | tail -1 || true)
        if [ -n "$newest" ] && newer "$newest" "$ceiling"; then
            log "$(basename "$lib") needs ${name}_$newest; Amazon Linux 2023 has ${name}_$ceiling"
            status=1
        fi
    done
done
[ "$status" = 0 ] || exit 1

version=$(sed -n 's/^Version: //p' "$libdir/pkgconfig/libheif.pc")
log "libheif $version for arm64: layer $(du -sh "$out/layer" | cut -f1) in $out/layer ($(ls "$out/layer/lib" | wc -l) libraries), sysroot in $out/sysroot"
