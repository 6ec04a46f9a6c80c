#!/usr/bin/env python3
"""compare.py: the plugin measured side by side with the limit and a peer.

Every scenario starts one test server process (compare-server) and runs,
one after the other against it, four clients that do the same protocol work:

  bare    tests/bench/compare-bare.c: libsoup 3 + json-glib, nothing else (the limit)
  peer    tests/bench/compare-peer.py: Python, python3-requests + python3-websocket
  lib     tests/bench/compare-lib.c: the client library alone
  plugin  tests/bench/compare-plugin.c: the built plugin in a headless libpurple

so the machine's load weighs on all of them alike and the ratios between
them are the targets. Absolute limits are only guards against a collapse, at
about twice what was measured. Messages are counted by their text, which is
unique per message (a lower and an upper bound: losses and duplicates).

Writes OUT/results.json, OUT/results.md, OUT/scaling-*.png (gnuplot), prints
one line per figure with PASS/FAIL, and exits 1 when a target is missed or a
client failed. BENCH_QUICK=1 runs small sizes (development only: the sizes
are too small for the figures to mean much). Targets: tests/bench/README.md.

Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "agentpass"
TIMER_SCALE = "0.05"   # the server's dispatch cycle (50 ms) scaled, as the other benchmarks do
CLIENTS = ("bare", "peer", "lib", "plugin")
# Debian's python3-websocket and python3-requests live with Debian's python,
# which a pyenv or venv python3 first on PATH does not see.
PEER_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"


class Sizes:
    def __init__(self, quick):
        self.quick = quick
        self.signin = (100, 1000) if quick else (1000, 10000)
        self.visitors = 20 if quick else 100
        self.burst_per_visitor = 10 if quick else 100     # 200 or 10,000 messages
        self.paced = 300 if quick else 3000
        self.paced_rate = 1000
        self.send = 500 if quick else 10000
        self.idle_seconds = 10 if quick else 60
        self.memory_rounds = 3 if quick else 10
        # Each client's figure is the median of this many runs, the four
        # clients taking turns (the order rotates), so that one slow moment
        # of a shared machine does not decide a ratio.
        self.repeats = 1 if quick else 3
        self.callgrind_signin = (50, 200) if quick else (200, 800)
        self.callgrind_burst = (100, 300) if quick else (500, 1500)


class Server:
    """compare-server in a child process, commands on its stdin."""

    def __init__(self, build, spec, workdir):
        self.control = os.path.join(workdir, "control-%d" % time.monotonic_ns())
        self.proc = subprocess.Popen(
            [os.path.join(build, "tests/bench/compare-server"), json.dumps(spec), TIMER_SCALE,
             self.control], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        line = self.proc.stdout.readline().split()
        if len(line) != 4 or line[0] != "ready":
            raise RuntimeError("compare-server did not start: %r" % line)
        self.url, self.app_uuid, self.key = line[1:]

    def command(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def api_calls(self):
        return int(self.command("requests").split()[0])

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


class Bench:
    def __init__(self, args):
        self.build = args.build
        self.out = args.out
        self.sizes = Sizes(bool(os.environ.get("BENCH_QUICK")))
        self.work = tempfile.mkdtemp(prefix="ppm-compare-")
        self.results = {}        # scenario -> client -> result (median of its runs)
        self.runs = {}           # scenario -> client -> [result of each run]
        self.figures = []
        self.failures = []
        self.broken = args.broken

    # ---- Running clients ----

    def client_argv(self, client, server, email, mode, count, extra=()):
        if client == "peer":
            argv = [PEER_PYTHON, os.path.join(HERE, "compare-peer.py")]
        else:
            argv = [os.path.join(self.build, "tests/bench/compare-" + client)]
        argv += ["--url", server.url, "--key", server.key, "--email", email,
                 "--password", PASSWORD, "--control", server.control, "--mode", mode,
                 "--count", str(count)]
        if self.broken:
            argv += ["--break", self.broken]
        return argv + list(extra)

    def run_client(self, client, server, email, mode, count, extra=(), on_ready=None,
                   timeout=900, wrapper=()):
        recv_log = os.path.join(self.work, "recv-%s-%s-%d" % (client, mode, time.monotonic_ns()))
        argv = list(wrapper) + self.client_argv(client, server, email, mode, count,
                                                list(extra) + ["--recv-log", recv_log])
        env = dict(os.environ, PLUGIN_DIR=os.path.abspath(self.build))
        # stderr to a file: a pipe nobody reads until the end could fill and
        # stop the client. A client that hangs is killed at the timeout.
        with tempfile.TemporaryFile(mode="w+") as errors:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, text=True,
                                    env=env)
            killer = threading.Timer(timeout, proc.kill)
            killer.start()
            result = None
            for line in proc.stdout:
                if line.strip() == "ready" and on_ready is not None:
                    on_ready()
                elif line.startswith("result "):
                    result = json.loads(line[len("result "):])
            proc.wait()
            killer.cancel()
            errors.seek(0)
            stderr = errors.read()
        if result is None:
            result = {"error": "no result (exit %s): %s" % (proc.returncode, stderr[-500:])}
        if "error" in result:
            self.failures.append("%s %s: %s" % (client, mode, result["error"]))
        texts = []
        if os.path.exists(recv_log):
            with open(recv_log) as log:
                texts = [line.rstrip("\n").split("\t", 1) for line in log if "\t" in line]
            os.unlink(recv_log)
        result["_shown"] = [(int(t), text) for t, text in texts]
        return result

    @staticmethod
    def count_by_text(result, expected):
        """Losses and duplicates among the expected texts, and anything else shown."""
        seen = {}
        for _, text in result["_shown"]:
            seen[text] = seen.get(text, 0) + 1
        result["unique"] = sum(1 for text in expected if text in seen)
        result["losses"] = len(expected) - result["unique"]
        result["duplicates"] = sum(n - 1 for text, n in seen.items() if text in expected)
        result["unexpected"] = sum(n for text, n in seen.items() if text not in expected)

    # ---- Scenario 1: sign-in with a backlog ----

    def turns(self):
        """(repeat, index, client) in the order the clients run: every client
        once per repeat, the order rotating so no client is always first."""
        for repeat in range(self.sizes.repeats):
            order = CLIENTS[repeat % len(CLIENTS):] + CLIENTS[:repeat % len(CLIENTS)]
            for client in order:
                yield repeat, repeat * len(CLIENTS) + CLIENTS.index(client), client

    def scenario_signin(self):
        agents = len(CLIENTS) * self.sizes.repeats
        for size in self.sizes.signin:
            spec = {"agents": agents, "conversations": size, "messages_per_conversation": 3,
                    "unacked_per_conversation": 1, "seed": 7}
            server = Server(self.build, spec, self.work)
            # The unacked message of conversation c is the visitor's newest one.
            expected = {"Message 2 in conversation %d" % c for c in range(size)}
            for repeat, agent, client in self.turns():
                before = server.api_calls()
                r = self.run_client(client, server, "agent%d@generated.test" % (agent + 1),
                                    "signin", size)
                r["api_calls"] = server.api_calls() - before
                self.count_by_text(r, expected)
                self.store("signin_%d" % size, client, r)
            server.stop()

    # ---- Scenarios 2 and 3: burst, paced, sending ----

    def scenario_messages(self):
        s = self.sizes
        spec = {"agents": len(CLIENTS) * s.repeats, "conversations": 0}
        server = Server(self.build, spec, self.work)
        if server.command("visitors %d" % s.visitors) != "ok":
            raise RuntimeError("the visitors did not start")
        burst = s.visitors * s.burst_per_visitor
        round_number = 0
        for repeat, agent, client in self.turns():
            email = "agent%d@generated.test" % (agent + 1)
            # Burst: every visitor queues its texts at once; the server pushes
            # them as fast as its dispatch cycle allows.
            round_number += 1
            command = "send %d %d" % (round_number, s.burst_per_visitor)
            self.burst_round(server, client, email, "burst", round_number, burst,
                             lambda: server.command(command))
            # Paced: a steady 1,000 messages a second.
            round_number += 1
            command_paced = "paced %d %d %d" % (round_number, s.paced, s.paced_rate)
            self.burst_round(server, client, email, "paced", round_number, s.paced,
                             lambda: server.command(command_paced))
        # Sending, with every ACK SEND tracked. The visitors go offline first:
        # each would otherwise acknowledge each message with a request to the
        # server, work that would outlast one client's run and slow the next.
        server.command("visitors close")
        for repeat, agent, client in self.turns():
            email = "agent%d@generated.test" % (agent + 1)
            server.command("watch " + email)
            r = self.run_client(client, server, email, "send", s.send)
            r["server_send_acks"] = int(server.command("sendacks"))
            self.store("send", client, r)
        server.stop()

    def burst_round(self, server, client, email, scenario, round_number, count, start):
        push_log = os.path.join(self.work, "push-%s-%s" % (client, scenario))
        server.command("watch " + email)
        r = self.run_client(client, server, email, "burst", count,
                            ["--round", str(round_number)], on_ready=start)
        server.command("pushlog " + push_log)
        pushes = {}
        with open(push_log) as log:
            for line in log:
                t, text = line.rstrip("\n").split("\t", 1)
                pushes.setdefault(text, int(t))
        marker = "bench r%d " % round_number
        expected = {text for text in pushes if text.startswith(marker)}
        r["pushed"] = len(expected)
        mine = dict(r)
        mine["_shown"] = [(t, text) for t, text in r["_shown"] if text.startswith(marker)]
        self.count_by_text(mine, expected)
        for key in ("unique", "losses", "duplicates", "unexpected"):
            r[key] = mine[key]
        r["losses"] += count - len(expected)   # never pushed at all
        latencies = sorted(t - pushes[text] for t, text in mine["_shown"] if text in pushes)
        if latencies:
            r["p50_ms"] = latencies[len(latencies) // 2] / 1000.0
            r["p99_ms"] = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] / 1000.0
            first_push = min(pushes[text] for text in expected)
            last_shown = max(t for t, _ in mine["_shown"])
            r["time_ms"] = (last_shown - first_push) / 1000.0
            r["per_second"] = r["unique"] * 1000.0 / max(r["time_ms"], 0.001)
        self.store(scenario, client, r)

    # ---- Scenario 5: idle ----

    def scenario_idle(self):
        """All four connected and idle at once (they do not compete while idle)."""
        server = Server(self.build, {"agents": len(CLIENTS), "conversations": 10}, self.work)
        procs = []
        for index, client in enumerate(CLIENTS):
            argv = self.client_argv(client, server, "agent%d@generated.test" % (index + 1),
                                    "idle", 0, ["--idle-seconds", str(self.sizes.idle_seconds)])
            procs.append((client, subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=dict(os.environ, PLUGIN_DIR=os.path.abspath(self.build)))))
        for client, proc in procs:
            out, err = proc.communicate(timeout=self.sizes.idle_seconds + 300)
            lines = [l for l in out.splitlines() if l.startswith("result ")]
            r = json.loads(lines[-1][len("result "):]) if lines else {"error": err[-300:]}
            if "error" in r:
                self.failures.append("%s idle: %s" % (client, r["error"]))
            r["_shown"] = []
            self.store("idle", client, r)
        server.stop()

    # ---- Scenario 6: instruction counts ----

    def callgrind(self, argv_of, sizes):
        """Instructions of whole runs at two sizes; their difference divided by
        the difference in size is the cost per item, with start-up cancelled."""
        counts = []
        for size in sizes:
            out_file = os.path.join(self.work, "callgrind-%d" % time.monotonic_ns())
            counts.append(argv_of(size, ["valgrind", "--tool=callgrind",
                                         "--callgrind-out-file=" + out_file], out_file))
        if None in counts:
            return None
        return (counts[1] - counts[0]) / (sizes[1] - sizes[0])

    @staticmethod
    def read_callgrind_total(path):
        total = None
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    if line.startswith("summary:") or line.startswith("totals:"):
                        total = int(line.split()[1])
            os.unlink(path)
        return total

    def scenario_instructions(self):
        if shutil.which("valgrind") is None:
            self.failures.append("valgrind is not installed (make bench installs it)")
            return
        for client in ("bare", "plugin"):
            def signin_run(size, wrapper, out_file, client=client):
                spec = {"agents": 1, "conversations": size, "messages_per_conversation": 3,
                        "unacked_per_conversation": 1, "seed": 7}
                server = Server(self.build, spec, self.work)
                r = self.run_client(client, server, "agent1@generated.test", "signin", size,
                                    ["--no-stall-meter"], wrapper=wrapper, timeout=1800)
                server.stop()
                return None if "error" in r else self.read_callgrind_total(out_file)

            per_conversation = self.callgrind(signin_run, self.sizes.callgrind_signin)

            server = Server(self.build, {"agents": 1, "conversations": 0}, self.work)
            server.command("visitors %d" % self.sizes.visitors)
            rounds = [0]

            def burst_run(count, wrapper, out_file, client=client):
                rounds[0] += 1
                per_visitor = count // self.sizes.visitors
                command = "send %d %d" % (rounds[0], per_visitor)
                r = self.run_client(client, server, "agent1@generated.test", "burst",
                                    per_visitor * self.sizes.visitors,
                                    ["--round", str(rounds[0]), "--no-stall-meter"], wrapper=wrapper,
                                    on_ready=lambda: server.command(command), timeout=1800)
                return None if "error" in r else self.read_callgrind_total(out_file)

            per_message = self.callgrind(burst_run, self.sizes.callgrind_burst)
            server.stop()
            self.store("instructions", client, {"per_conversation": per_conversation,
                                                "per_message": per_message, "_shown": []})

    # ---- Scenario 4: memory across rounds ----

    def scenario_memory_rounds(self):
        """The plugin: rounds of a burst, closing every window and signing out
        and in again; its RSS after each round (round 1 pays the warm-up)."""
        server = Server(self.build, {"agents": 1, "conversations": 0}, self.work)
        server.command("visitors %d" % self.sizes.visitors)
        per_visitor = self.sizes.burst_per_visitor
        first_round = 1000      # apart from any other round's texts
        sent = [0]

        def next_round():
            server.command("send %d %d" % (first_round + sent[0], per_visitor))
            sent[0] += 1

        r = self.run_client("plugin", server, "agent1@generated.test", "rounds",
                            per_visitor * self.sizes.visitors,
                            ["--rounds", str(self.sizes.memory_rounds), "--round", str(first_round)],
                            on_ready=next_round, timeout=3600)
        server.stop()
        self.store("memory_rounds", "plugin", r)
        self.store("memory_floor", "libpurple", self.libpurple_floor())

    def libpurple_floor(self):
        """bench-purple-floor's figures: libpurple's own bytes per buddy,
        the floor under the plugin's RSS per 1,000 conversations."""
        program = os.path.join(self.build, "tests/bench/bench-purple-floor")
        if not os.path.exists(program):
            return {"error": "%s is not built (make bench builds it)" % program}
        out = subprocess.run([program], capture_output=True, text=True, timeout=600,
                             env=dict(os.environ, PLUGIN_DIR=os.path.abspath(self.build))).stdout
        return {line.split()[1]: float(line.split()[2]) for line in out.splitlines()
                if line.startswith("figure ")}

    # ---- The counters can fail ----

    def scenario_self_test(self):
        """Runs the bare client broken (--break drop: the first message is
        never shown; double: it is shown twice) to see each counter catch it."""
        size = 100
        spec = {"agents": 2, "conversations": size, "messages_per_conversation": 3,
                "unacked_per_conversation": 1, "seed": 7}
        server = Server(self.build, spec, self.work)
        server.command("visitors 10")
        expected = {"Message 2 in conversation %d" % c for c in range(size)}
        checks = []
        for index, variant in enumerate(("drop", "double")):
            self.broken = variant
            email = "agent%d@generated.test" % (index + 1)
            r = self.run_client("bare", server, email, "signin", size)
            self.count_by_text(r, expected)
            self.failures = [f for f in self.failures if not f.startswith("bare signin")]
            checks.append(("signin", variant, r))
            command = "send %d 10" % (index + 1)
            self.burst_round(server, "bare", email, "self_test_burst_" + variant, index + 1, 100,
                             lambda: server.command(command))
            checks.append(("burst", variant, self.results["self_test_burst_" + variant]["bare"]))
            self.failures = [f for f in self.failures if not f.startswith("bare burst")]
            del self.results["self_test_burst_" + variant]
            del self.runs["self_test_burst_" + variant]
        self.broken = None
        server.stop()
        caught = {}
        for scenario, variant, r in checks:
            counter = "losses" if variant == "drop" else "duplicates"
            caught["%s %s" % (scenario, counter)] = (r.get(counter) or 0) > 0
        self.results["self_test"] = {"bare": caught}

    # ---- Results ----

    # Worst case over the runs for what must be zero; the median for the rest.
    WORST_OF_RUNS = ("losses", "duplicates", "unexpected", "error")

    def store(self, scenario, client, r):
        r.pop("_shown", None)
        runs = self.runs.setdefault(scenario, {}).setdefault(client, [])
        runs.append(r)
        combined = {}
        for key in set().union(*runs):
            values = [run[key] for run in runs if key in run]
            if key in self.WORST_OF_RUNS:
                combined[key] = max(values) if key != "error" else "; ".join(values)
            elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                combined[key] = sorted(values)[len(values) // 2]
            else:
                combined[key] = values[-1]
        if len(runs) > 1:
            combined["runs"] = len(runs)
        self.results.setdefault(scenario, {})[client] = combined
        shown = {k: v for k, v in r.items() if not k.startswith("_")}
        print("  %-14s %-7s %s" % (scenario, client, json.dumps(shown)), flush=True)

    def figure(self, name, value, unit, op=None, limit=None, kind="ratio", note=""):
        ok = None
        if value is None:
            ok = False if op else None
        elif op == "<=":
            ok = value <= limit
        elif op == ">=":
            ok = value >= limit
        self.figures.append({"name": name, "value": value, "unit": unit, "op": op,
                             "limit": limit, "kind": kind, "pass": ok, "note": note})

    def get(self, scenario, client, key):
        return self.results.get(scenario, {}).get(client, {}).get(key)

    def ratio(self, scenario, a, b, key):
        x, y = self.get(scenario, a, key), self.get(scenario, b, key)
        return x / y if x is not None and y not in (None, 0) else None

    def judge(self):
        s = self.sizes
        small, large = s.signin
        ran = self.results
        caught = self.results.get("self_test", {}).get("bare", {})
        for counter in sorted(caught):
            self.figure("self-test: the %s counter catches a broken client" % counter,
                        1 if caught[counter] else 0, "caught", ">=", 1, kind="count")
        for size in s.signin:
            sc = "signin_%d" % size
            if sc not in ran:
                continue
            self.figure("signin %d: time plugin/bare" % size, self.ratio(sc, "plugin", "bare", "signin_ms"), "x", "<=", 1.5)
            self.figure("signin %d: API calls plugin/bare" % size, self.ratio(sc, "plugin", "bare", "api_calls"), "x", "<=", 1.5)
            self.figure("signin %d: time lib/bare" % size, self.ratio(sc, "lib", "bare", "signin_ms"), "x", kind="info")
            self.figure("signin %d: time peer/bare" % size, self.ratio(sc, "peer", "bare", "signin_ms"), "x", kind="info")
            self.figure("signin %d: CPU plugin/bare" % size, self.ratio(sc, "plugin", "bare", "cpu_ms"), "x", kind="info")
            self.counters(sc, "signin %d" % size, ("losses", "duplicates", "unexpected"))
            self.figure("signin %d: plugin buddies" % size, self.get(sc, "plugin", "buddies"), "buddies", ">=", size, kind="count")
            self.figure("signin %d: plugin longest stall (CPU)" % size, self.get(sc, "plugin", "longest_stall_cpu_ms"), "ms", "<=", 500, kind="guard")
        if all("signin_%d" % n in ran for n in s.signin):
            self.judge_scaling()
        if "burst" in ran:
            self.judge_messages()
        if "idle" in ran:
            for client in CLIENTS:
                self.figure("idle: %s wake-ups per minute, every thread" % client, self.get("idle", client, "idle_wakeups_per_minute"), "/min", kind="info")
                if client != "peer":
                    self.figure("idle: %s main-loop wake-ups per minute" % client, self.get("idle", client, "idle_main_loop_wakeups_per_minute"), "/min", kind="info")
            self.figure("idle: main-loop wake-ups plugin/bare", self.ratio("idle", "plugin", "bare", "idle_main_loop_wakeups_per_minute"), "x", kind="info",
                        note="both ping every 30 s and read the team every 60 s")
            self.figure("idle: plugin's process before signing in (libpurple alone), every thread",
                        self.get("idle", "plugin", "idle_before_sign_in_wakeups_per_minute"), "/min", kind="info")
        if "memory_rounds" in ran:
            rss = self.get("memory_rounds", "plugin", "rss_after_round_kib") or []
            growth = (rss[-1] - rss[1]) / 1024.0 if len(rss) >= 3 else None
            self.figure("memory: plugin RSS round %d - round 2" % len(rss), growth, "MiB", "<=", 2.0, kind="count",
                        note="rounds of a burst, window close and reconnect")
            heap = self.get("memory_rounds", "plugin", "live_heap_after_round_kib") or []
            heap_growth = (heap[-1] - heap[1]) / 1024.0 if len(heap) >= 3 else None
            self.figure("memory: plugin live heap round %d - round 2" % len(heap), heap_growth, "MiB", kind="info",
                        note="malloc's bytes in use (mallinfo2): a leak grows both, pages kept after a peak only the RSS")
            self.figure("memory: libpurple's own floor per 1,000 conversations", self.get("memory_floor", "libpurple", "libpurple_floor_per_1000_conversations"),
                        "MiB", kind="info", note="bench-purple-floor: buddies with their contacts, an alias and a setting, no window, no plugin")
        if "instructions" in ran:
            for key, what in (("per_conversation", "conversation"), ("per_message", "message")):
                self.figure("instructions per %s: plugin/bare" % what,
                            self.ratio("instructions", "plugin", "bare", key), "x", kind="info")
                for client in ("plugin", "bare"):
                    value = self.get("instructions", client, key)
                    self.figure("instructions per %s: %s" % (what, client),
                                value / 1000.0 if value is not None else None, "Kinstr", kind="info")
        if not s.quick:
            self.judge_guards()
        for f in self.figures:
            if f["op"] == "<" and f["value"] is not None:
                f["pass"] = f["value"] < f["limit"]

    # Collapse guards: about twice what the plugin measured on 2026-12-07
    # (Debian 12, 2 shared cores), full sizes only. The ratios are the targets.
    GUARDS = (
        ("signin_1000", "signin_ms", "<=", 600, "ms", "plugin sign-in, 1,000 (measured 190-280)"),
        ("signin_10000", "signin_ms", "<=", 4500, "ms", "plugin sign-in, 10,000 (measured 1,980-2,360)"),
        ("signin_10000", "peak_rss_kib", "<=", 200000, "KiB", "plugin peak RSS, 10,000 (measured 101,000)"),
        ("burst", "per_second", ">=", 5000, "msg/s", "plugin burst rate (measured 10,400-16,400)"),
        ("send", "time_ms", "<=", 1500, "ms", "plugin sending 10,000 (measured 680)"),
        ("idle", "idle_main_loop_wakeups_per_minute", "<=", 26, "/min", "plugin idle main-loop wake-ups (measured 13)"),
    )

    def judge_guards(self):
        for scenario, key, op, limit, unit, name in self.GUARDS:
            if scenario in self.results:
                self.figure("guard: " + name, self.get(scenario, "plugin", key), unit, op, limit,
                            kind="guard")
        for key, what, limit in (("per_conversation", "conversation", 2200), ("per_message", "message", 270)):
            value = self.get("instructions", "plugin", key)
            if "instructions" in self.results:
                self.figure("guard: plugin instructions per %s (measured %d)" % (what, limit // 2),
                            value / 1000.0 if value is not None else None, "Kinstr", "<=", limit,
                            kind="guard")

    def judge_scaling(self):
        s = self.sizes
        small, large = s.signin
        for client in ("plugin", "bare"):
            self.figure("signin %d/%d: %s time" % (large, small, client),
                        self.ratio_sizes("signin_ms", client), "x", "<=", 12)
        rss = [self.get("signin_%d" % n, "plugin", "peak_rss_kib") for n in s.signin]
        per_1000 = ((rss[1] - rss[0]) / ((large - small) / 1000.0) / 1024.0) if None not in rss else None
        self.figure("memory: plugin RSS per 1,000 conversations", per_1000, "MiB", "<=", 2.0, kind="count")
        self.figure("memory: plugin accounts.xml after %d conversations" % large,
                    self.kib(self.get("signin_%d" % large, "plugin", "accounts_bytes")), "KiB", kind="info")

    def judge_messages(self):
        s = self.sizes
        for scenario in ("burst", "paced"):
            self.counters(scenario, scenario, ("losses", "duplicates"))
        self.figure("burst: rate plugin/bare", self.ratio("burst", "plugin", "bare", "per_second"), "x", ">=", 0.5)
        self.figure("burst: rate plugin/peer", self.ratio("burst", "plugin", "peer", "per_second"), "x", ">=", 3)
        self.figure("burst: rate peer/bare", self.ratio("burst", "peer", "bare", "per_second"), "x", kind="info")
        self.figure("burst: plugin p50 latency", self.get("burst", "plugin", "p50_ms"), "ms", kind="info")
        self.figure("burst: plugin p99 latency", self.get("burst", "plugin", "p99_ms"), "ms", kind="info")
        self.figure("burst: plugin longest stall (CPU)", self.get("burst", "plugin", "longest_stall_cpu_ms"), "ms", "<=", 500, kind="guard")
        self.figure("paced %d msg/s: plugin p99 latency" % s.paced_rate, self.get("paced", "plugin", "p99_ms"), "ms", "<", 5, kind="count")
        self.figure("paced %d msg/s: bare p99 latency" % s.paced_rate, self.get("paced", "bare", "p99_ms"), "ms", kind="info")
        self.figure("send: rate plugin/bare", self.inverse(self.ratio("send", "plugin", "bare", "time_ms")), "x", ">=", 0.5)
        self.figure("send: rate plugin/peer", self.inverse(self.ratio("send", "plugin", "peer", "time_ms")), "x", ">=", 3)
        self.figure("send: rate peer/bare", self.inverse(self.ratio("send", "peer", "bare", "time_ms")), "x", kind="info")
        acked = [self.get("send", client, "sends_acked") for client in CLIENTS]
        self.figure("send: sends acknowledged, fewest of the four clients",
                    min(acked) if None not in acked else None, "msgs", ">=", s.send, kind="count")

    COUNTER_NAMES = {"losses": "messages lost", "duplicates": "messages shown twice",
                     "unexpected": "history shown again"}

    def counters(self, scenario, label, keys):
        """One figure per counter: the worst of the four clients (each must be 0)."""
        for key in keys:
            values = [self.get(scenario, client, key) for client in CLIENTS]
            worst = max(values) if None not in values else None
            who = ", ".join("%s %s" % (c, v) for c, v in zip(CLIENTS, values) if v)
            self.figure("%s: %s, worst of the four clients%s" % (label, self.COUNTER_NAMES[key],
                                                                 " (%s)" % who if who else ""),
                        worst, "msgs", "<=", 0, kind="count")

    @staticmethod
    def kib(value):
        return value / 1024.0 if value is not None else None

    @staticmethod
    def inverse(value):
        return 1.0 / value if value else None

    def ratio_sizes(self, key, client):
        small, large = self.sizes.signin
        a = self.get("signin_%d" % small, client, key)
        b = self.get("signin_%d" % large, client, key)
        return b / a if a and b is not None else None

    def write(self, date=None, machine=None):
        os.makedirs(self.out, exist_ok=True)
        document = {
            "date": date or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine or "%s, %d cores" % (platform.platform(), os.cpu_count() or 0),
            "quick": self.sizes.quick,
            "sizes": vars(self.sizes),
            "figures": self.figures,
            "results": self.results,
            "runs": self.runs,
            "failures": self.failures,
        }
        with open(os.path.join(self.out, "results.json"), "w") as f:
            json.dump(document, f, indent=1, sort_keys=True)
        subprocess.run([sys.executable, os.path.join(HERE, "report.py"), "--results",
                        os.path.join(self.out, "results.json"), "--out", self.out], check=False)

    def report(self):
        status = 0
        for f in self.figures:
            value = "n/a" if f["value"] is None else "%.4g" % f["value"]
            target = "(%s %g)" % (f["op"], f["limit"]) if f["op"] else "(no target)"
            verdict = {True: "PASS", False: "FAIL", None: "INFO"}[f["pass"]]
            print("  %-58s %10s %-7s %-14s %s" % (f["name"], value, f["unit"], target, verdict))
            if f["pass"] is False:
                status = 1
        for failure in self.failures:
            print("  ERROR " + failure)
            status = 1
        print("compare: every target met" if status == 0 else "compare: some targets missed (FAIL or ERROR above)")
        return status


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("--out", default="build/bench")
    parser.add_argument("--only", help="comma-separated scenarios: self-test,signin,messages,idle,memory,instructions")
    parser.add_argument("--broken", choices=("drop", "double"),
                        help="run every client in its broken variant (to see the counters fail)")
    parser.add_argument("--rejudge", metavar="RESULTS_JSON",
                        help="judge the results of an earlier run again (after a change of targets)")
    args = parser.parse_args()
    bench = Bench(args)
    if args.rejudge:
        with open(args.rejudge) as f:
            earlier = json.load(f)
        bench.results, bench.runs = earlier["results"], earlier.get("runs", {})
        bench.failures, bench.sizes.quick = earlier["failures"], earlier["quick"]
        bench.judge()
        bench.write(date=earlier["date"], machine=earlier["machine"])
        return bench.report()
    wanted = set((args.only or "self-test,signin,messages,idle,memory,instructions").split(","))
    steps = [("self-test", bench.scenario_self_test), ("signin", bench.scenario_signin), ("messages", bench.scenario_messages),
             ("idle", bench.scenario_idle), ("memory", bench.scenario_memory_rounds),
             ("instructions", bench.scenario_instructions)]
    for name, step in steps:
        if name in wanted:
            print("# %s" % name, flush=True)
            started = time.monotonic()
            try:
                step()
            except Exception as error:   # a scenario that could not run is a failure, not a crash
                bench.failures.append("%s: %s" % (name, error))
            print("  (%s took %.0f s)" % (name, time.monotonic() - started), flush=True)
    bench.judge()
    bench.write()
    status = bench.report()
    shutil.rmtree(bench.work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
