#!/usr/bin/env bash
# Build Pycom firmware (GPy, FiPy) with microATsocket compiled in, from the user's own
# checkout of pycom-micropython-sigfox. Run by `make firmware` (mk/firmware.mk); the steps
# and the reasons behind them are in micropython_port/pycom/README.md.
#
#   build_firmware.sh            check the tools, then build
#   build_firmware.sh --check    only check, and say what is missing
#
# Settings (environment; `make firmware VAR=...` passes them on):
#   PYCOM_FW_DIR    the checkout, a release tag checked out, submodules updated (required)
#   IDF_PATH        Pycom's ESP-IDF at the commit that release names (required)
#   BOARD           GPY (default) or FIPY
#   FW_TRANSPORT    lteppp (default) or send_at_cmd
#   FW_LAYOUT       118, 1201 or 1202; default: read from the checkout's esp32/lte/lteppp.h
#   FW_GOALS        goals for Pycom's esp32 make, e.g. "release" or "flash"; default: its own
#   ESPPORT         serial port, for FW_GOALS=flash
#   CARGO_ESP       how to run cargo with Espressif's Rust toolchain (default: "cargo +esp")
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
check_only=0
[ "${1:-}" = "--check" ] && check_only=1

board="${BOARD:-GPY}"
transport="${FW_TRANSPORT:-lteppp}"
cargo_esp="${CARGO_ESP:-cargo +esp}"
rust_target="xtensa-esp32-none-elf"
core_lib="$repo/target/$rust_target/release/libmicroatsocket.a"
usermods="$repo/build/pycom-usermods"

say() { printf 'make firmware: %s\n' "$*" >&2; }
missing=()
need() { missing+=("$1"); }

# ---- the checkout --------------------------------------------------------------------
fw="${PYCOM_FW_DIR:-}"
layout="${FW_LAYOUT:-}"
if [ -z "$fw" ] || [ ! -f "$fw/esp32/Makefile" ]; then
    need "PYCOM_FW_DIR: your checkout of pycom-micropython-sigfox (git clone --recursive, then
      git checkout v1.20.2.r6 or another release of v1.20.1 or later, git submodule update --init)"
else
    fw="$(cd "$fw" && pwd)"
    if ! grep -q 'define MICROPY_VERSION_MINOR' "$fw/py/mpconfig.h"; then
        need "a release of v1.20.1 or later in PYCOM_FW_DIR ($fw is older than MicroPython 1.11:
      no user C modules; see the release table in micropython_port/pycom/README.md)"
    else
        # Reports what the checkout has; exit 1 means an edit is needed.
        set +e
        report="$(python3 "$here/patch_pycom_tree.py" "$fw" 2>&1)"
        rc=$?
        set -e
        if [ $rc -eq 1 ]; then
            need "the user C modules hook in $fw/esp32 (releases before v1.20.2.r3 lack it):
      python3 micropython_port/pycom/patch_pycom_tree.py \"$fw\" --apply"
        elif [ $rc -ne 0 ]; then
            need "a checkout patch_pycom_tree.py understands:
$(printf '%s\n' "$report" | sed 's/^/      /')"
        fi
        if [ -z "$layout" ]; then
            if grep -q 'expect_continuation' "$fw/esp32/lte/lteppp.h"; then layout=1202
            elif grep -q 'dataLen' "$fw/esp32/lte/lteppp.h"; then layout=1201
            else layout=118; fi
        fi
    fi
fi
layout="${layout:-1202}"
case "$transport" in
    lteppp|send_at_cmd) ;;
    *) need "FW_TRANSPORT=lteppp or FW_TRANSPORT=send_at_cmd (not '$transport')" ;;
esac

# ---- ESP-IDF and its GCC -------------------------------------------------------------
if [ -z "${IDF_PATH:-}" ] || [ ! -d "${IDF_PATH:-/nonexistent}/components" ]; then
    need "IDF_PATH: Pycom's ESP-IDF (pycom-esp-idf, branch idf_v3.3.1, git submodule update --init)
      at the commit IDF_HASH in \$PYCOM_FW_DIR/esp32/Makefile; export IDF_PATH=<that folder>"
fi
if ! command -v xtensa-esp32-elf-gcc >/dev/null 2>&1; then
    need "xtensa-esp32-elf-gcc on PATH: Espressif's Xtensa GCC for ESP-IDF 3.3 (the one Pycom's
      README names, GCC 5.2.0, crosstool-NG 1.22.0-80-g6c4433a); unpack it and add its bin/ to PATH"
fi
if ! command -v python3 >/dev/null 2>&1; then
    need "python3 (MicroPython's build scripts and patch_pycom_tree.py)"
fi

# ---- Espressif's Rust toolchain ------------------------------------------------------
if ! $cargo_esp --version >/dev/null 2>&1; then
    need "Espressif's Rust toolchain 'esp' (Rust with the Xtensa LLVM backend):
      cargo install espup && espup install && . \$HOME/export-esp.sh"
elif ! ${cargo_esp/cargo/rustc} --print target-list 2>/dev/null | grep -qx "$rust_target"; then
    need "the $rust_target target in the 'esp' toolchain (espup install adds it; run it again)"
fi

if [ ${#missing[@]} -gt 0 ]; then
    say "cannot build, missing:"
    for m in "${missing[@]}"; do printf '  - %s\n' "$m" >&2; done
    say "see micropython_port/pycom/README.md"
    exit 1
fi
say "checkout $fw, board $board, transport $transport, layout $layout"
[ $check_only -eq 1 ] && { say "all tools present"; exit 0; }

# ---- build -----------------------------------------------------------------------------
# The core without `std`: no_std, no allocation, panic aborts. xtensa-esp32-none-elf has no
# prebuilt standard library, so `core` is built from source (-Zbuild-std, nightly-only,
# which the esp toolchain is).
(cd "$repo" && $cargo_esp build --release -p microatsocket --target "$rust_target" -Zbuild-std=core)

# USER_C_MODULES names a folder holding one folder per module.
mkdir -p "$usermods"
ln -sfn "$repo/c_glue" "$usermods/microatsocket"

make -C "$fw/mpy-cross"
# make does not notice changed -D flags: after changing FW_TRANSPORT or FW_LAYOUT,
# run `make -C "$fw/esp32" BOARD=$board clean` first.
# shellcheck disable=SC2086
make -C "$fw/esp32" BOARD="$board" \
    USER_C_MODULES="$usermods" \
    MICROATSOCKET_LIB="$core_lib" \
    MICROATSOCKET_TRANSPORT="$transport" MICROATSOCKET_LTEPPP_LAYOUT="$layout" \
    ${ESPPORT:+ESPPORT="$ESPPORT"} ${FW_GOALS:-}
say "built under $fw/esp32/build/$board; flash with FW_GOALS=flash ESPPORT=<port>, or make a package for Pycom's updater with FW_GOALS=release"
