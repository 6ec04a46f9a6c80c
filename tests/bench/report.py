#!/usr/bin/env python3
"""report.py: turns compare.py's results.json into what people read.

  report.py --results build/bench/results.json --out build/bench
      writes results.md (every figure with its target and verdict, and the
      raw figures of every client) and plots the scaling curves with gnuplot:
      scaling.png (sign-in time and peak RSS against open conversations, the
      plugin, the library, the bare client and the Python peer).
  report.py --results ... --out ... --readme README.md --image-dir docs/bench
      also replaces the README's generated Performance block (between
      "<!-- bench:begin -->" and "<!-- bench:end -->") with the plot and the
      table, and copies the plot next to it: README figures are never typed.

Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"
CLIENTS = ("plugin", "lib", "bare", "peer")
CLIENT_NAMES = {"plugin": "plugin (libpurple)", "lib": "client library",
                "bare": "bare client (limit)", "peer": "Python peer"}


def number(value):
    if value is None:
        return "n/a"
    if isinstance(value, float) and abs(value) < 10:
        return "%.3g" % value
    return "{:,.0f}".format(value)


def verdict(figure):
    return {True: "met", False: "**missed**", None: "shown"}[figure["pass"]]


def figures_table(document, kinds=None):
    lines = ["| figure | measured | target | |", "| --- | ---: | --- | --- |"]
    for f in document["figures"]:
        if kinds is not None and f["kind"] not in kinds:
            continue
        target = "%s %s" % (f["op"], number(f["limit"])) if f["op"] else ""
        lines.append("| %s | %s %s | %s | %s |" % (f["name"], number(f["value"]), f["unit"],
                                                   target, verdict(f)))
    return "\n".join(lines)


RAW_COLUMNS = (("signin_ms", "time ms"), ("cpu_ms", "CPU ms"), ("api_calls", "API calls"),
               ("peak_rss_kib", "peak RSS KiB"), ("per_second", "msg/s"), ("p50_ms", "p50 ms"),
               ("p99_ms", "p99 ms"), ("time_ms", "time ms (send)"), ("losses", "lost"),
               ("duplicates", "twice"), ("idle_wakeups_per_minute", "wake-ups/min"),
               ("longest_stall_cpu_ms", "longest stall CPU ms"),
               ("per_conversation", "instr/conv"), ("per_message", "instr/msg"))


def raw_table(document):
    results = document["results"]
    lines = []
    for scenario in sorted(results):
        if not any(c in results[scenario] for c in CLIENTS):
            continue    # a figure of no client (memory_floor): in the figures table
        columns = [(k, name) for k, name in RAW_COLUMNS
                   if any(k in results[scenario].get(c, {}) for c in CLIENTS)]
        lines.append("\n**%s**\n" % scenario)
        lines.append("| client | " + " | ".join(name for _, name in columns) + " |")
        lines.append("| --- |" + " ---: |" * len(columns))
        for client in CLIENTS:
            r = results[scenario].get(client)
            if r is not None:
                lines.append("| %s | " % CLIENT_NAMES[client]
                             + " | ".join(number(r.get(k)) for k, _ in columns) + " |")
    return "\n".join(lines)


def plot(document, out):
    """Sign-in time and peak RSS against open conversations, per client."""
    sizes = sorted(int(s.split("_")[1]) for s in document["results"] if s.startswith("signin_"))
    if not sizes:
        return None
    data = os.path.join(out, "scaling.dat")
    with open(data, "w") as f:
        f.write("# conversations " + " ".join("%s_ms %s_rss_mib" % (c, c) for c in CLIENTS) + "\n")
        for size in sizes:
            row = [str(size)]
            for client in CLIENTS:
                r = document["results"]["signin_%d" % size].get(client, {})
                row.append(str(r.get("signin_ms", "NaN")))
                rss = r.get("peak_rss_kib")
                row.append(str(rss / 1024.0) if rss is not None else "NaN")
            f.write(" ".join(row) + "\n")
    png = os.path.join(out, "scaling.png")
    time_plots = ", ".join("'%s' using 1:%d with linespoints title '%s'"
                           % (data, 2 + 2 * i, CLIENT_NAMES[c]) for i, c in enumerate(CLIENTS))
    rss_plots = ", ".join("'%s' using 1:%d with linespoints title '%s'"
                          % (data, 3 + 2 * i, CLIENT_NAMES[c]) for i, c in enumerate(CLIENTS))
    script = "\n".join([
        "set terminal pngcairo size 1000,420 font ',10'",
        "set output '%s'" % png,
        "set multiplot layout 1,2 title 'Sign-in with a backlog (one unacked message per conversation), %s'"
        % document["date"],
        "set logscale xy",
        "set key top left",
        "set grid",
        "set xlabel 'open conversations'",
        "set ylabel 'until buddy list complete and backlog acked (ms)'",
        "plot " + time_plots,
        "set ylabel 'peak RSS (MiB)'",
        "unset logscale y",
        "plot " + rss_plots,
        "unset multiplot",
    ])
    if shutil.which("gnuplot") is None:
        print("report.py: gnuplot is not installed (make bench installs it)", file=sys.stderr)
        return None
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    return png


def markdown(document, image):
    parts = ["Measured %s on %s%s by `make bench` (tests/bench/compare.py); every "
             "ratio compares programs run in the same `make bench` against the same "
             "test server process." % (document["date"], document["machine"],
                                       " (**quick sizes: not comparable**)" if document["quick"] else "")]
    if image:
        parts.append("![sign-in time and RSS against open conversations](%s)" % image)
    parts.append("Targets (ratios between programs of the same run; absolute limits "
                 "only guard against a collapse):\n\n"
                 + figures_table(document, kinds=("ratio", "count", "guard")))
    parts.append("Shown without a target:\n\n" + figures_table(document, kinds=("info",)))
    if document["failures"]:
        parts.append("Runs that failed: " + "; ".join(document["failures"]))
    parts.append("<details><summary>Every client's figures</summary>\n" + raw_table(document)
                 + "\n\n</details>")
    return "\n\n".join(parts) + "\n"


def update_readme(readme, block):
    with open(readme) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise SystemExit("report.py: %s has no %s ... %s block" % (readme, BEGIN, END))
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(readme, "w") as f:
        f.write(head + BEGIN + "\n" + block + END + tail)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--readme")
    parser.add_argument("--image-dir", help="where the README's copy of the plot goes")
    args = parser.parse_args()
    with open(args.results) as f:
        document = json.load(f)
    os.makedirs(args.out, exist_ok=True)
    png = plot(document, args.out)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(markdown(document, os.path.basename(png) if png else None))
    if args.readme:
        image = None
        if png and args.image_dir:
            os.makedirs(args.image_dir, exist_ok=True)
            shutil.copy(png, os.path.join(args.image_dir, "scaling.png"))
            image = os.path.relpath(os.path.join(args.image_dir, "scaling.png"),
                                    os.path.dirname(os.path.abspath(args.readme)))
        update_readme(args.readme, markdown(document, image))
    return 0


if __name__ == "__main__":
    sys.exit(main())
