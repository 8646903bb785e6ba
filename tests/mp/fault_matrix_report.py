#!/usr/bin/env python3
"""Turns the fault matrix's JSON lines (tests/mp/test_fault_matrix.py, one file per build and
firmware profile) into the README's table, between its fault-matrix markers.

    tests/mp/fault_matrix_report.py --readme README.md run1.jsonl run2.jsonl ...
    tests/mp/fault_matrix_report.py --check --readme README.md ...   # fail if README is stale
"""
import argparse
import json
import sys

BEGIN = "<!-- fault-matrix:begin -->"
END = "<!-- fault-matrix:end -->"


def column_name(row):
    if row["transport"] == "lteppp":
        return "lteppp/%s on %s" % (row["layout"], row["profile"])
    return "send_at_cmd on %s" % row["profile"]


def passed(row):
    """The case's outcome was the expected one, its fault fired (None: nothing counts it), every
    slot was free once its sockets were closed, and the next operation worked."""
    return (row["actual"] == row["expected"] and row.get("fault_fired") is not False
            and row["all_freed_after_close"] and bool(row["next_operation_works"]))


def why_failed(row):
    why = []
    if row["actual"] != row["expected"]:
        why.append("expected %s" % row["expected"])
    if row.get("fault_fired") is False:
        why.append("the fault did not fire")
    if not row["all_freed_after_close"]:
        why.append("a slot stayed in use")
    if not row["next_operation_works"]:
        why.append("the next operation failed")
    return "; ".join(why)


def table(rows):
    columns = []
    cells = {}
    order = []
    for row in rows:
        col = column_name(row)
        if col not in columns:
            columns.append(col)
        key = (row["fault"], row["operation"])
        if key not in cells:
            cells[key] = {}
            order.append(key)
        ok = passed(row)
        text = row["actual"]
        if row["next_operation_works"] == "works on the second try":
            text += "; the next operation works on the second try"
        cells[key][col] = text if ok else "**%s** (%s)" % (text, why_failed(row))
    lines = ["| fault | operation | " + " | ".join(columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for key in order:
        lines.append("| %s | %s | %s |" % (key[0], key[1], " | ".join(cells[key].get(c, "-") for c in columns)))
    failed = sum(1 for r in rows if not passed(r))
    lines += ["", "%d cases on %d builds and profiles; in every one the fault fired (where the simulator counts "
              "it), the outcome was the expected one, no slot "
              "stayed in use once the sockets were closed (a modem socket the module could not close is closed "
              "by the next user of its connId), and the next operation on a fresh socket worked (where noted, "
              "on its second try)."
              % (len(order), len(columns)) if not failed else
              "%d of %d results differ from the expected outcome (in bold)." % (failed, len(rows))]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+")
    ap.add_argument("--readme", required=True)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    rows = []
    for path in args.results:
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    if not rows:
        print("fault matrix: no results", file=sys.stderr)
        return 1
    with open(args.readme) as f:
        text = f.read()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        print("fault matrix: no markers in %s" % args.readme, file=sys.stderr)
        return 1
    new = text[:start + len(BEGIN)] + "\n" + table(rows) + "\n" + text[end:]
    if args.check:
        if new != text:
            print("fault matrix: the README table is not what the run gave; run 'make fault-matrix'", file=sys.stderr)
            return 1
        return 0
    with open(args.readme, "w") as f:
        f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
