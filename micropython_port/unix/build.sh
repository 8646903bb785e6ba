#!/usr/bin/env bash
# Build the MicroPython unix port with the fake Pycom `network.LTE` and, when
# present, the microATsocket module.
#
#   micropython_port/unix/build.sh            -> build/micropython
#
# Environment knobs (all optional):
#   MP_VARIANT        unix port variant (default: pycom, this folder's
#                     variants/pycom: the standard variant with Ctrl-C raised
#                     at the next pending check, as on the board)
#   MP_CFLAGS_EXTRA   extra C flags, e.g. "-fsanitize=address,undefined -g"
#   MP_LDFLAGS_EXTRA  extra linker flags for the same purpose
#   MP_BUILD_DIR      make's BUILD directory, relative to ports/unix; set it
#                     when building with different flags so objects don't mix
#                     (default: build-$MP_VARIANT, make's own default)
#   MP_OUTPUT         where to copy the binary (default: build/micropython)
#   MP_JOBS           parallel jobs (default: number of cores)
#   MICROATSOCKET_TRANSPORT      send_at_cmd (default) or lteppp: how the
#                     module reaches the (fake) LTE task, see c_glue/micropython.mk;
#                     lteppp builds go to their own BUILD directory
#                     (build-$MP_VARIANT-lteppp) because make does not notice
#                     changed -D flags
#   MICROATSOCKET_LTEPPP_LAYOUT  command-struct layout for lteppp (default 1202)
#
# Everything is cached under build/ (git-ignored). The MicroPython source is
# fetched once from Debian's source package; later runs only run make, which
# rebuilds whatever changed in fake_lte/ or c_glue/.
set -euo pipefail

MP_DEBIAN_VERSION="1.25.0+ds-1"
MP_DEBIAN_SUITE="trixie"

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$script_dir/../.." && pwd)"
build="$repo/build"
src="$build/micropython-src"
usermods="$build/usermods"

variant="${MP_VARIANT:-pycom}"
output="${MP_OUTPUT:-$build/micropython}"
case "$output" in /*) ;; *) output="$repo/$output" ;; esac
jobs="${MP_JOBS:-$(nproc 2>/dev/null || echo 2)}"

log() { printf 'build.sh: %s\n' "$*" >&2; }

# Print the URI of the machine's own Debian archive (not the security one),
# read from its apt configuration. Nothing here names a host.
debian_mirror_uri() {
    local f
    # deb822 files: a stanza with "Types: ... deb" and "URIs: ...".
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        awk '
            BEGIN { IGNORECASE = 1 }
            /^[[:space:]]*$/ { if (types ~ /deb/ && uri != "") { print uri; exit } types = ""; uri = ""; next }
            /^Types:/ { types = $0 }
            /^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { uri = $i; break } }
            END { if (types ~ /deb/ && uri != "") print uri }
        ' "$f" | head -n1
    done
    # One-line format.
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        awk '
            $1 == "deb" || $1 == "deb-src" {
                i = 2
                if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                if ($i !~ /security/) { print $i; exit }
            }
        ' "$f"
    done
}

fetch_source() {
    if [ -d "$src/ports/unix" ]; then
        return
    fi
    if ! command -v dpkg-source >/dev/null 2>&1; then
        log "installing dpkg-dev (for dpkg-source)"
        local sudo_cmd=()
        [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
        "${sudo_cmd[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq dpkg-dev >/dev/null
    fi
    local uri
    uri="$(debian_mirror_uri | head -n1)"
    if [ -z "$uri" ]; then
        log "no Debian archive URI found in /etc/apt; cannot fetch the MicroPython source"
        exit 1
    fi
    # A private apt tree: only our deb-src line, our own lists and cache, so
    # the machine's configuration is never touched.
    local apt="$build/apt"
    mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache/archives/partial"
    cat >"$apt/sources.list.d/micropython-src.sources" <<EOF
Types: deb-src
URIs: $uri
Suites: $MP_DEBIAN_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    local opts=(
        -o "Dir::Etc::SourceParts=$apt/sources.list.d"
        -o "Dir::Etc::SourceList=/dev/null"
        -o "Dir::State::Lists=$apt/lists"
        -o "Dir::Cache=$apt/cache"
        -o "APT::Sandbox::User=root"
    )
    log "fetching micropython=$MP_DEBIAN_VERSION source ($MP_DEBIAN_SUITE)"
    apt-get "${opts[@]}" update >/dev/null
    local work="$build/micropython-src.tmp"
    rm -rf "$work"
    mkdir -p "$work"
    (cd "$work" && apt-get "${opts[@]}" source "micropython=$MP_DEBIAN_VERSION" >/dev/null)
    local unpacked
    unpacked="$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'micropython-*' | head -n1)"
    if [ -z "$unpacked" ] || [ ! -d "$unpacked/ports/unix" ]; then
        log "apt-get source did not produce a MicroPython tree"
        exit 1
    fi
    mv "$unpacked" "$src"
    rm -rf "$work"
}

# USER_C_MODULES must name the directory that *contains* the module folders;
# pointing it at a module folder itself silently builds without the module.
link_usermods() {
    mkdir -p "$usermods"
    ln -sfn "$script_dir/fake_lte" "$usermods/fake_lte"
    if [ -f "$repo/c_glue/micropython.mk" ]; then
        ln -sfn "$repo/c_glue" "$usermods/microatsocket"
    else
        rm -f "$usermods/microatsocket"
    fi
}

# MicroPython scans for qstrs only in sources newer than its last scan, so a
# module file that appears with an older time stamp (a module switched on by
# its micropython.mk showing up, a git checkout) would never be scanned and its
# MP_QSTR_ names would be undeclared. When the set of module files changes,
# drop the generated headers so everything is scanned again.
invalidate_qstrs_if_modules_changed() {
    local built_dir="$1"
    local stamp="$src/ports/unix/$built_dir/usermods.stamp"
    local current
    current="$(
        cd "$usermods" && for m in */; do
            printf '%s -> %s\n' "$m" "$(readlink -f "$m")"
            find -L "$m" -maxdepth 1 -type f \( -name '*.c' -o -name '*.h' -o -name 'micropython.mk' \) | sort
            cat "$m/micropython.mk" 2>/dev/null || true
        done | sha256sum
    )"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$current" ]; then
        rm -rf "$src/ports/unix/$built_dir/genhdr"
        mkdir -p "$src/ports/unix/$built_dir"
        printf '%s\n' "$current" >"$stamp"
    fi
}

# make does not see a changed configuration header or variant: objects built
# with another configuration in the same directory (MP_BUILD_DIR) would stay.
invalidate_build_if_variant_changed() {
    local built_dir="$1"
    local stamp="$src/ports/unix/$built_dir/variant.stamp"
    local current
    current="$(
        printf '%s\n' "$variant"
        cat "$script_dir/variants/$variant/"* 2>/dev/null || true
    )"
    current="$(printf '%s' "$current" | sha256sum)"
    if [ -d "$src/ports/unix/$built_dir" ] && { [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$current" ]; }; then
        rm -rf "${src:?}/ports/unix/$built_dir"
    fi
    mkdir -p "$src/ports/unix/$built_dir"
    printf '%s\n' "$current" >"$stamp"
}

build_port() {
    make -C "$src/mpy-cross" -j"$jobs" >/dev/null
    # Flags, and why:
    #   MICROPY_PY_BTREE=0      the Debian source strips the bundled berkeley-db
    #   MICROPY_PY_SSL=0 MICROPY_SSL_MBEDTLS=0
    #                           ...and the bundled mbedtls/axtls (the "+ds" repack)
    #   FROZEN_MANIFEST=        the variant's manifest freezes micropython-lib,
    #                           which the repack does not ship either
    #   MICROPY_PY_FFI=0        no libffi-dev needed; nothing here uses ffi
    local variant_arg=(VARIANT="$variant")
    if [ -d "$script_dir/variants/$variant" ]; then
        variant_arg=(VARIANT_DIR="$script_dir/variants/$variant")
    fi
    local args=(
        -C "$src/ports/unix"
        "${variant_arg[@]}"
        MICROPY_PY_BTREE=0
        MICROPY_PY_SSL=0
        MICROPY_SSL_MBEDTLS=0
        MICROPY_PY_FFI=0
        FROZEN_MANIFEST=
        # Keep symbols: the benchmark's instruction counts are split by function name.
        STRIP=
        USER_C_MODULES="$usermods"
        -j"$jobs"
    )
    if [ -n "${MP_CFLAGS_EXTRA:-}" ]; then
        args+=(CFLAGS_EXTRA="$MP_CFLAGS_EXTRA")
    fi
    if [ -n "${MP_LDFLAGS_EXTRA:-}" ]; then
        args+=(LDFLAGS_EXTRA="$MP_LDFLAGS_EXTRA")
    fi
    local transport="${MICROATSOCKET_TRANSPORT:-send_at_cmd}"
    local default_dir="build-$variant"
    if [ "$transport" != send_at_cmd ]; then
        default_dir="build-$variant-$transport-${MICROATSOCKET_LTEPPP_LAYOUT:-1202}"
        args+=(BUILD="$default_dir")
    fi
    args+=(MICROATSOCKET_TRANSPORT="$transport")
    if [ -n "${MICROATSOCKET_LTEPPP_LAYOUT:-}" ]; then
        args+=(MICROATSOCKET_LTEPPP_LAYOUT="$MICROATSOCKET_LTEPPP_LAYOUT")
    fi
    if [ -n "${MP_BUILD_DIR:-}" ]; then
        args+=(BUILD="$MP_BUILD_DIR")
    fi
    local built_dir="${MP_BUILD_DIR:-$default_dir}"
    invalidate_build_if_variant_changed "$built_dir"
    invalidate_qstrs_if_modules_changed "$built_dir"
    make "${args[@]}"
    mkdir -p "$(dirname "$output")"
    cp "$src/ports/unix/$built_dir/micropython" "$output.tmp"
    mv "$output.tmp" "$output"
    log "built $output"
}

mkdir -p "$build"
fetch_source
link_usermods
build_port
