#!/usr/bin/env python3
"""Regenerates the fault table of README.md ("Reliability") from the figures
the last run of tests/test-faults.c wrote to build/fault-figures.txt, so the
README cannot drift from what the test measured.

    python3 tests/fault-figures-to-readme.py [FIGURES] [README]
    python3 tests/fault-figures-to-readme.py --check [FIGURES] [README]

The table sits between the two marker comments below in README.md; --check
only reports (exit status 1) when the README's table differs.
"""
import re
import sys

BEGIN = "<!-- fault-figures: made by tests/fault-figures-to-readme.py from build/fault-figures.txt -->"
END = "<!-- end of fault-figures -->"

# What each fault of tests/test-faults.c does, in the words of the table.
DESCRIPTIONS = {
    "drop-websockets": "the agent's websocket dropped, twice",
    "websocket-down": "the agent's websocket refused for 1.5 s",
    "websocket-stall": "the agent's websocket stalled (takes frames, never answers)",
    "http-down": "every HTTP call of the agent answered 500 for 1.5 s",
    "http-and-websocket-down": "the agent's websocket and HTTP both down for 1.5 s",
    "http-stall": "every HTTP call of the agent stalled for 2.5 s, then its connections reset",
    "http-500": "HTTP 500 on 30 % of the agent's calls",
    "http-500-after-work": "HTTP 500 after doing the work, on 30 % of the agent's calls",
    "truncated-json": "truncated JSON on 30 % of the agent's calls",
    "malformed-json": "malformed JSON on 30 % of the agent's calls",
    "http-delay": "every answer to the agent delayed 300 ms",
    "ack-lost-before-push": "ACK SEND lost, socket cut, before the push to the visitor",
    "ack-lost-after-push": "ACK SEND lost, socket cut, after the push to the visitor",
    "sign-out-and-in": "signed out and in again, twice (a new session each time)",
}

LINE = re.compile(
    r"fault (?P<name>\S+)\s+visitors->agent: written (?P<v_written>\d+) stored (?P<v_stored>\d+) "
    r"\(during the fault (?P<v_during>\d+)\) lost (?P<v_lost>\d+) \((?P<v_lost_during>\d+)\) "
    r"duplicated (?P<v_dup>\d+) \((?P<v_dup_during>\d+)\) in order (?P<v_order>\w+) \| "
    r"agent->visitors: typed (?P<a_typed>\d+) stored (?P<a_stored>\d+) lost (?P<a_lost>\d+) "
    r"duplicated (?P<a_dup>\d+) in order (?P<a_order>\w+) errors (?P<a_errors>\d+) \| "
    r"recovered in (?P<recovered>-?\d+) ms")


def parse(path):
    runs = []
    with open(path, encoding="utf-8") as figures:
        for line in figures:
            match = LINE.match(line.strip())
            if match is None:
                raise SystemExit(f"{path}: not a figures line: {line.strip()}")
            run = {key: (value if key in ("name", "v_order", "a_order") else int(value))
                   for key, value in match.groupdict().items()}
            runs.append(run)
    return runs


def seconds(ms):
    return "never" if ms < 0 else f"{ms / 1000:.2f} s"


def table(runs):
    rows = [
        "| fault (aimed at the agent only) | visitors to agent: shown of stored "
        "(written during the fault) | agent to visitors: received of typed | lost | "
        "duplicated | in order | recovered after the fault in |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    broken = []
    for run in runs:
        if run["name"].startswith("broken:"):
            broken.append(run)
            continue
        shown = run["v_stored"] - run["v_lost"]
        received = run["a_typed"] - run["a_lost"]
        in_order = "yes" if run["v_order"] == "yes" and run["a_order"] == "yes" else "no"
        rows.append(
            f"| {DESCRIPTIONS.get(run['name'], run['name'])} "
            f"| {shown} of {run['v_stored']} ({run['v_during']}) "
            f"| {received} of {run['a_typed']} "
            f"| {run['v_lost'] + run['a_lost']} | {run['v_dup'] + run['a_dup']} "
            f"| {in_order} | {seconds(run['recovered'])} |")
    lines = rows
    if broken:
        found = "; ".join(
            f"with `PPM_TEST_HOOK_BROKEN_RESEND={run['name'].split(':', 1)[1]}`, "
            f"{run['a_dup']} duplicated and {run['a_lost']} lost of {run['a_typed']}"
            for run in broken)
        lines += ["", "The same counting, run against a library broken on purpose "
                  "(the lost-ACK fault, messages in doubt re-sent without the look-up, or "
                  f"taken as stored unseen), catches what follows: {found}."]
    return "\n".join(lines)


def main(argv):
    check = "--check" in argv
    args = [arg for arg in argv if arg != "--check"]
    figures_path = args[0] if len(args) > 0 else "build/fault-figures.txt"
    readme_path = args[1] if len(args) > 1 else "README.md"
    with open(readme_path, encoding="utf-8") as readme:
        text = readme.read()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{readme_path}: the fault-figures markers are missing")
    updated = text[:start] + BEGIN + "\n" + table(parse(figures_path)) + "\n" + text[end:]
    if check:
        if updated != text:
            print(f"{readme_path}: the fault table differs from {figures_path}")
            return 1
        return 0
    if updated != text:
        with open(readme_path, "w", encoding="utf-8") as readme:
            readme.write(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
