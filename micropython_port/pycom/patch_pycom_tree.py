#!/usr/bin/env python3
"""Prepare YOUR OWN checkout of pycom-micropython-sigfox for microATsocket.

    patch_pycom_tree.py PYCOM_FW_DIR            report what the checkout has and needs
    patch_pycom_tree.py PYCOM_FW_DIR --apply    make the edits it needs (user C modules hook)
    patch_pycom_tree.py PYCOM_FW_DIR --apply --chunking
                                                also make LTE.send_at_cmd split long commands

Edits, each found by pattern and marked with a "microATsocket:" comment, so a
second run changes nothing and `git diff` in the checkout shows all of them:

  hook      esp32/Makefile and esp32/application.mk of releases before v1.20.2.r3
            ignore the user C modules that py/py.mk collects (SRC_MOD, CFLAGS_MOD,
            LDFLAGS_MOD; py/py.mk itself adds SRC_MOD to the qstr scan): compile
            them with their flags, link their libraries.
            v1.20.2.r3 and later have this already.
  chunking  (only with --chunking; only for the send_at_cmd transport) on releases
            whose LTE task takes continuation items (v1.20.2.r2 and later) but whose
            send_at_cmd does not make them (v1.20.2.r2 .. r6), lte_push_at_command_ext
            in esp32/mods/modlte.c sends a command longer than one item as full items
            marked as continuations followed by the last 1..124 bytes.

Exit status: 0 when the checkout is (now) ready for the chosen transport, 1 when an
edit is needed and --apply was not given, 2 when a pattern was not found (the
checkout differs from the releases this script knows: make the edit by hand, as
micropython_port/pycom/README.md describes) or the release cannot take the module.
"""

import argparse
import os
import re
import sys

MARK = "microATsocket:"


class PatternMissing(Exception):
    pass


def read(root, rel):
    with open(os.path.join(root, rel)) as f:
        return f.read()


def write(root, rel, text):
    path = os.path.join(root, rel)
    tmp = path + ".microatsocket.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def insert_after_line(text, line_regex, new_line, what):
    """Inserts new_line after the first line matching line_regex (a whole-line regex)."""
    m = re.search(r"^" + line_regex + r"[^\n]*\n", text, re.M)
    if m is None:
        raise PatternMissing(what)
    return text[: m.end()] + new_line + "\n" + text[m.end():]


# ---- facts about the checkout -------------------------------------------------------

def micropython_version(root):
    """(major, minor) from py/mpconfig.h, or None before MicroPython 1.11."""
    text = read(root, "py/mpconfig.h")
    major = re.search(r"#define MICROPY_VERSION_MAJOR\s+\(?(\d+)", text)
    minor = re.search(r"#define MICROPY_VERSION_MINOR\s+\(?(\d+)", text)
    if major is None or minor is None:
        return None
    return int(major.group(1)), int(minor.group(1))


def lteppp_layout(root):
    text = read(root, "esp32/lte/lteppp.h")
    m = re.search(r"typedef struct\s*\{([^}]*)\}\s*lte_task_cmd_data_t\s*;", text)
    if m is None:
        raise PatternMissing("lte_task_cmd_data_t in esp32/lte/lteppp.h")
    body = m.group(1)
    if "expect_continuation" in body:
        return 1202
    if "dataLen" in body:
        return 1201
    return 118


def has_hook(root):
    app = read(root, "esp32/application.mk")
    return "$(SRC_MOD:.c=.o)" in app or MARK in app


PUSH_EXT = re.compile(
    r"static bool lte_push_at_command_ext\s*\(\s*char \*cmd_str,\s*uint32_t timeout,\s*"
    r"const char \*expected_rsp,\s*size_t len\s*\)\s*\{\s*"
    r"return lte_push_at_command_ext_cont\s*\(\s*cmd_str,\s*timeout,\s*expected_rsp,\s*len,\s*false\s*\)\s*;\s*\}"
)


def send_at_cmd_chunks(root):
    """True when send_at_cmd already sends long commands as continuation items."""
    text = read(root, "esp32/mods/modlte.c")
    if MARK in text:
        return True
    # Any call that marks a full item as a continuation: PR 429 in send_at_cmd
    # (v1.20.2.rc11_pygate) or in lte_push_at_command_ext (branch Release/v1.20).
    return re.search(r"lte_push_at_command_ext_cont\s*\([^;]*LTE_AT_CMD_DATA_SIZE_MAX,\s*(true|expect_continuation)\s*\)", text) is not None


# ---- the edits --------------------------------------------------------------------

def add_hook(root):
    mk = read(root, "esp32/Makefile")
    if MARK not in mk and "$(CFLAGS_MOD)" not in mk:
        mk = insert_after_line(
            mk, r"CFLAGS = \$\(CFLAGS_XTENSA\)",
            "CFLAGS += $(CFLAGS_MOD) $(CFLAGS_EXTRA) # " + MARK + " flags of user C modules",
            "the line 'CFLAGS = $(CFLAGS_XTENSA) ...' in esp32/Makefile")
    app = read(root, "esp32/application.mk")
    if MARK not in app:
        app = insert_after_line(
            app, r"OBJ \+= \$\(addprefix \$\(BUILD\)/, \$\(APP_MODS_SRC_C:\.c=\.o\)",
            "OBJ += $(addprefix $(BUILD)/, $(SRC_MOD:.c=.o)) # " + MARK + " user C modules",
            "the line 'OBJ += $(addprefix $(BUILD)/, $(APP_MODS_SRC_C:.c=.o) ...' in esp32/application.mk")
        app = insert_after_line(
            app, r"APP_LDFLAGS \+= \$\(LDFLAGS\)",
            "APP_LDFLAGS += $(LDFLAGS_MOD) # " + MARK + " libraries of user C modules",
            "the line 'APP_LDFLAGS += $(LDFLAGS) ...' in esp32/application.mk")
    return mk, app


CHUNKING_BODY = """static bool lte_push_at_command_ext(char *cmd_str, uint32_t timeout, const char *expected_rsp, size_t len) {
    /* %s a command longer than one queue item goes as full items marked
     * as continuations (written at once, no answer awaited), then the last
     * 1..LTE_AT_CMD_DATA_SIZE_MAX bytes as an ordinary item whose answer is read. */
    while (len > LTE_AT_CMD_DATA_SIZE_MAX) {
        lte_push_at_command_ext_cont(cmd_str, timeout, NULL, LTE_AT_CMD_DATA_SIZE_MAX, true);
        cmd_str += LTE_AT_CMD_DATA_SIZE_MAX;
        len -= LTE_AT_CMD_DATA_SIZE_MAX;
    }
    return lte_push_at_command_ext_cont(cmd_str, timeout, expected_rsp, len, false);
}""" % MARK


def add_chunking(root):
    text = read(root, "esp32/mods/modlte.c")
    new, n = PUSH_EXT.subn(lambda _m: CHUNKING_BODY, text, count=1)
    if n != 1:
        raise PatternMissing("the one-line lte_push_at_command_ext(cmd_str, timeout, expected_rsp, len) "
                             "in esp32/mods/modlte.c")
    return new


# ---- main -------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pycom_fw_dir", help="your pycom-micropython-sigfox checkout")
    ap.add_argument("--apply", action="store_true", help="make the edits (default: only report)")
    ap.add_argument("--chunking", action="store_true",
                    help="also make send_at_cmd split long commands (for the send_at_cmd transport)")
    args = ap.parse_args()
    root = os.path.abspath(args.pycom_fw_dir)

    def say(msg):
        print("patch_pycom_tree: " + msg)

    try:
        for rel in ("py/mpconfig.h", "py/py.mk", "esp32/Makefile", "esp32/application.mk",
                    "esp32/lte/lteppp.h", "esp32/mods/modlte.c"):
            if not os.path.isfile(os.path.join(root, rel)):
                say("%s has no %s: not a pycom-micropython-sigfox checkout" % (root, rel))
                return 2
        version = micropython_version(root)
        if version is None or version < (1, 11):
            say("this release is older than MicroPython 1.11 (Pycom v1.20.1): it has no user C "
                "modules (py/py.mk) and no MP_REGISTER_MODULE; use v1.20.1 or later")
            return 2
        if "USER_C_MODULES" not in read(root, "py/py.mk"):
            say("py/py.mk does not read USER_C_MODULES: use v1.20.1 or later")
            return 2
        layout = lteppp_layout(root)
        say("MicroPython %d.%d, lteppp command struct layout %d (MICROATSOCKET_LTEPPP_LAYOUT=%d)"
            % (version + (layout, layout)))

        pending = []
        hook_ok = has_hook(root)
        say("user C modules hook in esp32/: %s" % ("present" if hook_ok else "MISSING (before v1.20.2.r3)"))
        if not hook_ok:
            pending.append("hook")

        if args.chunking:
            if layout != 1202:
                say("--chunking needs the LTE task's continuation items (layout 1202, v1.20.2.r2 and "
                    "later); this release has layout %d. The send_at_cmd transport works without "
                    "chunking (62-byte datagrams)" % layout)
                return 2
            chunks = send_at_cmd_chunks(root)
            say("send_at_cmd splits long commands: %s" % ("yes" if chunks else "no"))
            if not chunks:
                pending.append("chunking")

        if not pending:
            say("nothing to do")
            return 0
        if not args.apply:
            say("needed: %s; run again with --apply" % ", ".join(pending))
            return 1

        # Build every edit first, then write: a missing pattern leaves the tree untouched.
        writes = []
        if "hook" in pending:
            mk, app = add_hook(root)
            writes += [("esp32/Makefile", mk), ("esp32/application.mk", app)]
        if "chunking" in pending:
            writes.append(("esp32/mods/modlte.c", add_chunking(root)))
        for rel, text in writes:
            if text != read(root, rel):
                write(root, rel, text)
                say("edited %s" % rel)
        say("done: %s (see `git diff` in %s)" % (", ".join(pending), root))
        return 0
    except PatternMissing as e:
        say("pattern not found: %s. This checkout differs from the releases this script knows; "
            "nothing was changed. Make the edit by hand (micropython_port/pycom/README.md)." % e)
        return 2


if __name__ == "__main__":
    sys.exit(main())
