#!/usr/bin/env python3
"""compare-peer.py: the PPMessage agent client a user would otherwise script:
Python with Debian's python3-requests and python3-websocket (websocket-client),
written the obvious way, blocking calls on one thread. It does the protocol
work the bare client does (tests/bench/compare-bare.c): the same sign-in
requests and pages, the websocket auth, an ACK_MESSAGE for what it received
(batched: everything already read when the socket has nothing more), and
sends with their ACK SEND tracked by uuid.

Same command line, modes, receive log and result line as the C clients
(tests/bench/compare-common.h).

Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
"""
import argparse
import hashlib
import json
import resource
import socket
import sys
import time
import uuid

import requests
import websocket

CONVERSATION_PAGE = 100
UNACKED_PAGE = 50
READY_PAUSE = 0.3
LINGER = 1.0
ROUND_TIMEOUT = 300.0


def monotonic_us():
    # CLOCK_MONOTONIC, the clock of the server's push log and the C clients.
    return time.monotonic_ns() // 1000


class Peer:
    def __init__(self, args):
        self.args = args
        self.http = requests.Session()
        self.log = []
        self.shown = 0
        self.marker = "bench r%d " % args.round
        self.marked = 0
        self.first_marked = self.last_marked = None
        self.conversations = {}
        self.acks_due = []
        self.sends_pending = set()
        self.sends_acked = 0
        self.control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.control.connect(args.control)
        self.control_file = self.control.makefile("r")

    def server(self, command):
        self.control.sendall((command + "\n").encode())
        return self.control_file.readline().strip()

    def show(self, text):
        now = monotonic_us()
        times = 1
        if self.args.break_ and self.shown == 0:
            times = 0 if self.args.break_ == "drop" else 2
        if times == 0:
            # Handled as shown, never logged: a loss the counters must find.
            self.shown += 1
            self.marked += text.startswith(self.marker)
        for _ in range(times):
            self.log.append("%d\t%s\n" % (now, text))
            self.shown += 1
            if text.startswith(self.marker):
                self.marked += 1
                self.first_marked = self.first_marked or now
                self.last_marked = now

    def api(self, name, body=None):
        body = dict(body or {})
        body.update(app_uuid=self.app_uuid, user_uuid=self.user_uuid,
                    device_uuid=self.device_uuid)
        answer = self.http.post(self.args.url + "/api/" + name, json=body,
                                headers={"Authorization": "OAuth " + self.token}).json()
        if answer.get("error_code") != 0:
            raise RuntimeError("%s: error_code %s" % (name, answer.get("error_code")))
        return answer

    def sign_in(self):
        a = self.args
        password = hashlib.sha1(a.password.encode()).hexdigest()
        answer = self.http.post(a.url + "/ppauth/token", data={
            "grant_type": "password", "user_email": a.email,
            "user_password": password, "client_id": a.key}).json()
        self.token = answer["access_token"]
        login = self.http.post(a.url + "/api/PPKEFU_LOGIN", json={
            "terminal": "compare-peer", "user_email": a.email, "ostype": "LIN",
            "device_fullname": "compare-peer"},
            headers={"Authorization": "OAuth " + self.token}).json()
        self.user_uuid = login["uuid"]
        self.device_uuid = login["browser_device_uuid"]
        self.app_uuid = login["app"]["uuid"]
        self.ws = websocket.create_connection("ws" + a.url[len("http"):] + "/pcsocket/WS")
        self.ws.send(json.dumps({"type": "auth", "api_token": self.token,
                                 "app_uuid": self.app_uuid, "user_uuid": self.user_uuid,
                                 "device_uuid": self.device_uuid, "is_service_user": True}))
        self.api("PP_GET_APP_SERVICE_USER_LIST")
        page = 0
        while True:
            answer = self.api("PP_PAGE_USER_CONVERSATION",
                              {"page_offset": page, "page_size": CONVERSATION_PAGE})
            for item in answer.get("list") or []:
                self.conversations[item["uuid"]] = item.get("user_uuid")
            page += 1
            if page * CONVERSATION_PAGE >= answer.get("total_count", 0):
                break
        while True:
            frame = json.loads(self.ws.recv())
            if frame.get("type") == "ACK" and frame.get("what") == "AUTH":
                if frame.get("code") != 0:
                    raise RuntimeError("websocket auth refused")
                break
            self.take(frame)
        # Acked pushes leave the list: page 0 always holds the next ones.
        while True:
            answer = self.api("PP_PAGE_UNACKED_MESSAGE",
                              {"page_offset": 0, "page_size": UNACKED_PAGE})
            pids = answer.get("list") or []
            if not pids:
                break
            messages = answer.get("message") or {}
            for pid in pids:
                if messages.get(pid):
                    self.show(json.loads(messages[pid]).get("bo", ""))
            self.api("ACK_MESSAGE", {"list": pids})

    def take(self, frame):
        kind = frame.get("type")
        if kind == "MSG":
            msg = frame.get("msg") or {}
            if msg.get("pid"):
                self.show(msg.get("bo", ""))
                self.acks_due.append(msg["pid"])
        elif kind == "ACK" and frame.get("what") == "SEND":
            extra = frame.get("extra") or {}
            if extra.get("uuid") in self.sends_pending:
                self.sends_pending.discard(extra["uuid"])
                if frame.get("code") != 0:
                    raise RuntimeError("a send was refused")
                self.sends_acked += 1

    def flush_acks(self):
        if self.acks_due:
            self.api("ACK_MESSAGE", {"list": self.acks_due})
            self.acks_due = []

    def receive_until(self, done, timeout):
        """Reads frames until done() or timeout; acks when the socket is drained."""
        deadline = time.monotonic() + timeout
        self.ws.settimeout(0.01)
        while not done() and time.monotonic() < deadline:
            try:
                self.take(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                self.flush_acks()
        self.flush_acks()
        self.ws.settimeout(None)
        return done()

    def send(self, count):
        conversations = list(self.conversations.items())
        for i in range(count):
            conversation, visitor = conversations[i % len(conversations)]
            message_uuid = str(uuid.uuid4())
            self.sends_pending.add(message_uuid)
            self.ws.send(json.dumps({"type": "send", "send": {
                "uuid": message_uuid, "app_uuid": self.app_uuid,
                "conversation_uuid": conversation, "conversation_type": "S2P",
                "message_type": "NOTI", "message_subtype": "TEXT",
                "message_body": "agent text %d" % i, "from_uuid": self.user_uuid,
                "from_type": "DU", "device_uuid": self.device_uuid,
                "to_uuid": visitor, "to_type": "DU"}}))

    def sign_out(self):
        self.api("PPKEFU_LOGOUT")
        self.ws.close()


def voluntary_switches():
    """Every thread's voluntary context switches (compare-common.c does the same)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw


def main():
    parser = argparse.ArgumentParser()
    for name in ("url", "key", "email", "password", "control", "mode", "recv-log"):
        parser.add_argument("--" + name, required=name != "recv-log")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--round", type=int, default=1)
    parser.add_argument("--idle-seconds", type=int, default=60)
    parser.add_argument("--break", dest="break_", choices=("drop", "double"))
    args = parser.parse_args()
    peer = Peer(args)
    result = {"client": "peer", "mode": args.mode, "count": args.count}
    if args.mode == "idle":
        switches = voluntary_switches()
        time.sleep(max(args.idle_seconds // 2, 1))
        result["idle_before_sign_in_wakeups_per_minute"] = (
            max(voluntary_switches() - switches - 1, 0) * 60.0 / max(args.idle_seconds // 2, 1))
    start = monotonic_us()
    try:
        peer.sign_in()
        result["signin_ms"] = (monotonic_us() - start) / 1000.0
        if args.mode == "burst":
            peer.receive_until(lambda: False, READY_PAUSE)
            print("ready", flush=True)
            if not peer.receive_until(lambda: peer.marked >= args.count, ROUND_TIMEOUT):
                result["error"] = "not every message of the burst came"
            peer.receive_until(lambda: False, LINGER)
        elif args.mode == "send":
            peer.receive_until(lambda: False, READY_PAUSE)
            send_start = monotonic_us()
            peer.send(args.count)
            if not peer.receive_until(lambda: peer.sends_acked >= args.count, ROUND_TIMEOUT):
                result["error"] = "not every send was acknowledged"
            result["time_ms"] = (monotonic_us() - send_start) / 1000.0
        elif args.mode == "idle":
            peer.receive_until(lambda: False, READY_PAUSE)
            switches = voluntary_switches()
            # The obvious idle loop: block in recv until something comes.
            peer.ws.settimeout(args.idle_seconds)
            try:
                peer.take(json.loads(peer.ws.recv()))
            except websocket.WebSocketTimeoutException:
                pass
            # Less one: the timeout that ends the window is the meter's own.
            result["idle_wakeups_per_minute"] = (
                max(voluntary_switches() - switches - 1, 0) * 60.0 / max(args.idle_seconds, 1))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        peer.sign_out()
    except Exception as error:  # reported in the result: compare.py fails the run
        result["error"] = str(error)
        usage = resource.getrusage(resource.RUSAGE_SELF)
    if args.recv_log:
        with open(args.recv_log, "w") as log:
            log.writelines(peer.log)
    result.update(shown=peer.shown, buddies=len(peer.conversations),
                  sends_acked=peer.sends_acked,
                  cpu_ms=(usage.ru_utime + usage.ru_stime) * 1000.0,
                  peak_rss_kib=usage.ru_maxrss)
    if peer.first_marked is not None:
        result.update(first_shown_us=peer.first_marked, last_shown_us=peer.last_marked)
    print("result " + json.dumps(result), flush=True)
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main())
