#!/usr/bin/env python3
"""The benchmark figures README.md quotes, kept equal to what `make bench` writes.

README.md's speed tables ("| profile | operation | B | AT exchanges | modelled ms | wire ms |" and
the steady 1500-byte side-by-side table) hold rows chosen by hand; their figures come from
bench/results/latest.json, which `make bench` writes and which is committed beside the README.

    bench/readme_figures.py --write           # refill the README's rows from latest.json
    bench/readme_figures.py --check           # fail if a README figure differs from latest.json
    bench/readme_figures.py --check --smoke bench/results/smoke.json
                                              # ... and if today's code, run by the smoke bench,
                                              # gives other modelled figures than latest.json

Every figure here is modelled (the fake LTE's device clock, AT exchanges, UART bytes): the same
on any host. Host-CPU figures (callgrind instructions) are not in these tables and not checked.
The smoke comparison covers the README rows the smoke run also has (profiles stock and direct),
except those whose figures depend on real time (REAL_TIME_OPS): a short run of today's code must
reproduce the committed figures, so a change that alters a modelled cost fails `make test` until
`make bench` is run and the new figures are committed.
"""

import argparse
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(REPO, "README.md")
LATEST = os.path.join(REPO, "bench", "results", "latest.json")

OPS_HEADER = "| profile | operation | B | AT exchanges | modelled ms | wire ms | raw-byte wire ms |"
SIDE_HEADER = "| profile | answered items | continuation items | 100 ms idle polls | modelled ms | wire ms | wire share |"
# Their modem traffic depends on how long real peers take (receive polls paced by real pauses),
# so a loaded machine may add a poll: left out of the smoke comparison, not of the README check.
REAL_TIME_OPS = ("recvfrom, must wait 150 ms for the echo", "getaddrinfo of a name (own DNS query)",
                 "getaddrinfo of a name (own DNS query, the modem's resolver resting)")
SMOKE_TOLERANCE_US = 100.0


def number(value, digits):
    """A figure as the README prints it: whole numbers without decimals."""
    if abs(value - round(value)) < 1e-9 and digits <= 1:
        return "%d" % round(value)
    return ("%." + str(digits) + "f") % value


def ops_cells(row):
    # Reports from before the raw-byte column: every payload went as it is counted.
    raw_wire_us = row.get("raw_wire_us", row["wire_us"])
    return [number(row["exchanges"], 1), "%.1f" % (row["modelled_us"] / 1000), "%.2f" % (row["wire_us"] / 1000),
            "%.2f" % (raw_wire_us / 1000)]


def side_cells(row):
    return [number(row["exchanges"], 1), number(row["continuations"], 1), number(row["idle_polls"], 1),
            "%.1f" % (row["modelled_us"] / 1000), "%.1f" % (row["wire_us"] / 1000),
            "%.0f %%" % (100.0 * row["wire_us"] / row["modelled_us"])]


def index(report):
    """Datagram and stream rows (bench/ops.py, bench/tcp_ops.py) by (profile, operation, payload)."""
    rows = report["operations"] + report.get("streams", [])
    return {(r["profile"], r["op"], int(r["payload"] or 0)): r for r in rows}


def split_row(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table_rows(lines, header):
    """(line number, cells) of each data row of the table under `header`."""
    try:
        start = lines.index(header)
    except ValueError:
        raise SystemExit("README.md has no table headed %r" % header)
    rows = []
    for i in range(start + 2, len(lines)):
        if not lines[i].startswith("|"):
            break
        rows.append((i, split_row(lines[i])))
    if not rows:
        raise SystemExit("README.md's table %r has no rows" % header)
    return rows


def readme_keys(lines):
    """Each README row: (line number, table, key into the report, the cells it shows)."""
    out = []
    for i, cells in table_rows(lines, OPS_HEADER):
        out.append((i, "ops", (cells[0], cells[1], int(cells[2] or 0)), cells))
    for i, cells in table_rows(lines, SIDE_HEADER):
        # "pr429 (`send_at_cmd`, two calls)": the profile is the first word.
        out.append((i, "side", (cells[0].split()[0], "steady sendto", 1500), cells))
    return out


def expected(table, row):
    return ops_cells(row) if table == "ops" else side_cells(row)


def shown(table, cells):
    return cells[3:7] if table == "ops" else cells[1:7]


def write(lines, report):
    rows = index(report)
    for i, table, key, cells in readme_keys(lines):
        if key not in rows:
            raise SystemExit("README.md row %r: latest.json has no such row" % (key,))
        new = expected(table, rows[key])
        cells = cells[:3] + new if table == "ops" else cells[:1] + new
        lines[i] = "| " + " | ".join(cells) + " |"
    return lines


def check_readme(lines, report):
    rows = index(report)
    problems = []
    for i, table, key, cells in readme_keys(lines):
        if key not in rows:
            problems.append("README.md:%d %r: latest.json has no such row" % (i + 1, key))
            continue
        want = expected(table, rows[key])
        if shown(table, cells) != want:
            problems.append("README.md:%d %s %s %s: README says %s, latest.json %s" % (
                i + 1, key[0], key[1], key[2] or "", " / ".join(shown(table, cells)), " / ".join(want)))
    return problems


def check_smoke(lines, report, smoke):
    """Today's code (the smoke run) against the committed figures, for the README's rows.

    AT exchanges must be equal; modelled time within SMOKE_TOLERANCE_US. The tolerance covers
    the one real-time effect in these rows: whether a peer's echo (its +SQNSRING) arrives during
    a given steady send and is read with that send's answer, which moves the average by about
    10 us between a 3-operation and a 50-operation run; a changed exchange, wait or command
    length moves it by milliseconds."""
    committed, today = index(report), index(smoke)
    problems = []
    compared = 0
    for _, _, key, _ in readme_keys(lines):
        if key[1] in REAL_TIME_OPS or key not in today or key not in committed:
            continue
        compared += 1
        want, got = committed[key], today[key]
        if abs(want["exchanges"] - got["exchanges"]) > 0.05 \
                or abs(want["modelled_us"] - got["modelled_us"]) > SMOKE_TOLERANCE_US:
            problems.append("%s %s %s: latest.json has %s exchanges / %.2f ms, today's code %s / %.2f ms "
                            "(run `make bench` and commit)" % (
                                key[0], key[1], key[2] or "", number(want["exchanges"], 1),
                                want["modelled_us"] / 1000, number(got["exchanges"], 1), got["modelled_us"] / 1000))
    if compared == 0:
        problems.append("the smoke run shares no README row with latest.json: nothing was compared")
    return problems, compared


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="refill README.md's rows from latest.json")
    mode.add_argument("--check", action="store_true", help="fail when a README figure is not latest.json's")
    ap.add_argument("--smoke", help="a smoke run's JSON (bench/run_bench.py --smoke) to hold against latest.json")
    ap.add_argument("--readme", default=README)
    ap.add_argument("--latest", default=LATEST)
    args = ap.parse_args()
    with open(args.latest) as f:
        report = json.load(f)
    if report.get("smoke"):
        raise SystemExit("%s is a smoke run: `make bench` writes the full one" % args.latest)
    with open(args.readme) as f:
        lines = f.read().split("\n")
    if args.write:
        with open(args.readme, "w") as f:
            f.write("\n".join(write(lines, report)))
        print("readme_figures: README.md's benchmark rows refilled from %s" % os.path.relpath(args.latest, REPO))
        return 0
    problems = check_readme(lines, report)
    note = "%d README rows match latest.json" % len(readme_keys(lines))
    if args.smoke:
        with open(args.smoke) as f:
            smoke = json.load(f)
        more, compared = check_smoke(lines, report, smoke)
        problems += more
        note += "; %d of them reproduced by today's code (smoke run)" % compared
    if problems:
        print("readme_figures: README.md's benchmark figures are stale:\n  " + "\n  ".join(problems))
        return 1
    print("readme_figures: " + note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
