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
#   ESPBAUD         flashing speed (Pycom's makefiles' default: 921600; their README's ESPSPEED
#                   is not read by them)
#   PYTHON          the Python both makes run (default python3: Pycom's py/mkenv.mk says
#                   `python`, which Debian 12 and Ubuntu lack without python-is-python3)
#   CARGO_ESP       how to run cargo with Espressif's Rust toolchain (default: "cargo +esp")
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
check_only=0
[ "${1:-}" = "--check" ] && check_only=1

board="${BOARD:-GPY}"
transport="${FW_TRANSPORT:-lteppp}"
cargo_esp="${CARGO_ESP:-cargo +esp}"
python="${PYTHON:-python3}"
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
idf_hash=""
[ -n "$fw" ] && [ -f "$fw/esp32/Makefile" ] && idf_hash="$(sed -n 's/^IDF_HASH=\([0-9a-f]*\).*/\1/p' "$fw/esp32/Makefile" | head -n1)"
if [ -z "${IDF_PATH:-}" ] || [ ! -d "${IDF_PATH:-/nonexistent}/components" ]; then
    need "IDF_PATH: Pycom's ESP-IDF (pycom-esp-idf, branch idf_v3.3.1, git clone --recursive)
      at the commit IDF_HASH in \$PYCOM_FW_DIR/esp32/Makefile${idf_hash:+ ($idf_hash)}; export IDF_PATH=<that folder>"
elif [ ! -e "$IDF_PATH/.git" ]; then
    need "IDF_PATH as a git clone: Pycom's esp32/tools/idfVerCheck.sh reads \$IDF_PATH/.git to compare its
      commit with IDF_HASH, so an unpacked archive fails; git clone --recursive pycom-esp-idf instead"
else
    have="$(git -C "$IDF_PATH" rev-parse --short=7 HEAD 2>/dev/null || true)"
    if [ -n "$idf_hash" ] && [ "$have" != "$idf_hash" ]; then
        need "IDF_PATH at the commit the checkout names: it is at '${have:-unknown}', IDF_HASH is $idf_hash
      (cd \$IDF_PATH && git checkout $idf_hash && git submodule update --init --recursive)"
    fi
    # '-': not initialised, '+': not at the commit the IDF pins, 'U': merge conflict.
    unready="$(git -C "$IDF_PATH" submodule status --recursive 2>/dev/null | grep -E '^[-+U]' | awk '{print $2}' | head -n 5 | tr '\n' ' ' || true)"
    if [ -n "$unready" ]; then
        need "IDF_PATH's submodules at their pinned commits (not so: ${unready% }):
      cd \$IDF_PATH && git submodule update --init --recursive"
    fi
fi
if ! command -v xtensa-esp32-elf-gcc >/dev/null 2>&1; then
    need "xtensa-esp32-elf-gcc on PATH: Espressif's Xtensa GCC for ESP-IDF 3.3 (the one Pycom's
      README names, GCC 5.2.0, crosstool-NG 1.22.0-80-g6c4433a); unpack it and add its bin/ to PATH"
fi
if ! command -v "$python" >/dev/null 2>&1; then
    need "$python (MicroPython's build scripts, the IDF's tools, patch_pycom_tree.py; PYTHON= names another)"
else
    # ESP-IDF 3.3's requirements.txt: esptool.py elf2image (the image step) and the IDF's make
    # import these; the pyparsing bound is the IDF's own.
    py_missing="$("$python" - <<'PYEOF'
import importlib
missing = []
for module, package in (("serial", "pyserial"), ("future", "future"), ("cryptography", "cryptography"),
                        ("pyparsing", "pyparsing<2.4")):
    try:
        found = importlib.import_module(module)
    except Exception:
        missing.append(package)
        continue
    if module == "pyparsing":
        version = tuple(int(p) for p in found.__version__.split(".")[:2] if p.isdigit())
        if version >= (2, 4):
            missing.append("pyparsing<2.4 (found %s)" % found.__version__)
print(", ".join(missing))
PYEOF
)"
    if [ -n "$py_missing" ]; then
        need "ESP-IDF 3.3's Python packages for $python ($py_missing): $python -m pip install -r \$IDF_PATH/requirements.txt
      (pyserial, future, cryptography, pyparsing<2.4; a virtual environment keeps them apart)"
    fi
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

make -C "$fw/mpy-cross" PYTHON="$python"
# make does not notice changed -D flags: after changing FW_TRANSPORT or FW_LAYOUT,
# run `make -C "$fw/esp32" BOARD=$board clean` first.
# shellcheck disable=SC2086
case " ${FW_GOALS:-} " in
    *" flash "*) say "flashing: the board must be in programming mode (Expansion Board 2.0: P2 to GND, then reset)" ;;
esac
make -C "$fw/esp32" BOARD="$board" PYTHON="$python" \
    USER_C_MODULES="$usermods" \
    MICROATSOCKET_LIB="$core_lib" \
    MICROATSOCKET_TRANSPORT="$transport" MICROATSOCKET_LTEPPP_LAYOUT="$layout" \
    ${ESPPORT:+ESPPORT="$ESPPORT"} ${ESPBAUD:+ESPBAUD="$ESPBAUD"} ${FW_GOALS:-}

# The room left in the app partition, as Pycom's tools/size_check.sh counts it (application and
# bootloader together, against 1 980 KiB on 8 MB flash, 1 720 KiB on 4 MB).
board_lc="$(printf '%s' "$board" | tr '[:upper:]' '[:lower:]')"
out_dir="$fw/esp32/build/$board/${BTYPE:-release}"
if [ -f "$out_dir/$board_lc.bin" ] && [ -f "$out_dir/bootloader/bootloader.bin" ]; then
    case "$board" in GPY|FIPY|LOPY4) limit=2027520 ;; *) limit=1761280 ;; esac
    used=$(( $(wc -c < "$out_dir/$board_lc.bin") + $(wc -c < "$out_dir/bootloader/bootloader.bin") ))
    say "image $used bytes of $limit ($(( (limit - used) / 1024 )) KiB left in the app partition)"
fi
say "built under $fw/esp32/build/$board; flash with FW_GOALS=flash ESPPORT=<port>, or make a package for Pycom's updater with FW_GOALS=release"
