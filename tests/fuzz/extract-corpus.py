#!/usr/bin/env python3
"""Extracts fuzz seeds from the protocol transcripts.

Usage: extract-corpus.py TRANSCRIPTS_DIR OUTPUT_DIR [--limit N]

Writes OUTPUT_DIR/<target>/<sha1> for the fuzz targets: fuzz-frame (server
websocket frames), fuzz-message (compact messages, message_body texts,
history records, the bodies of every subtype), fuzz-api (HTTP answers),
fuzz-discovery (the key-discovery excerpts of the web assets) and fuzz-json
(all of the JSON above). --limit keeps at most N seeds of at most 4 KiB per
target, chosen evenly, for the small corpus kept in the repository.
"""
import glob
import hashlib
import json
import os
import sys


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def collect(transcripts):
    seeds = {name: [] for name in ("fuzz-frame", "fuzz-message", "fuzz-api",
                                   "fuzz-discovery", "fuzz-json")}
    for path in sorted(glob.glob(os.path.join(transcripts, "*.jsonl"))):
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                kind = record.get("kind")
                if kind == "ws_recv":
                    frame = record.get("data")
                    seeds["fuzz-frame"].append(compact(frame))
                    if isinstance(frame, dict) and isinstance(frame.get("msg"), dict):
                        msg = frame["msg"]
                        seeds["fuzz-message"].append(compact(msg))
                        if isinstance(msg.get("bo"), str):
                            seeds["fuzz-message"].append(msg["bo"])
                elif kind == "http_response":
                    body = record.get("body")
                    if isinstance(body, dict) and "_summary" in body:
                        for excerpt in body.get("excerpts", []):
                            seeds["fuzz-discovery"].append(excerpt.get("excerpt", ""))
                        continue
                    text = body if isinstance(body, str) else compact(body)
                    seeds["fuzz-api"].append(text)
                    seeds["fuzz-json"].append(text)
                    if not isinstance(body, dict):
                        continue
                    for item in body.get("list") or []:
                        if isinstance(item, dict):
                            seeds["fuzz-message"].append(compact(item))
                            if isinstance(item.get("message_body"), str):
                                seeds["fuzz-message"].append(item["message_body"])
                    messages = body.get("message")
                    if isinstance(messages, dict):
                        for value in messages.values():
                            if isinstance(value, str):
                                seeds["fuzz-message"].append(value)
    seeds["fuzz-json"] += seeds["fuzz-frame"]
    return seeds


def unique(items):
    seen, result = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result


def main():
    args = sys.argv[1:]
    limit = None
    if "--limit" in args:
        index = args.index("--limit")
        limit = int(args[index + 1])
        del args[index:index + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    transcripts, output = args
    for target, items in collect(transcripts).items():
        items = unique(items)
        if limit:
            items = [item for item in items if len(item.encode("utf-8")) <= 4096]
        if limit and len(items) > limit:
            step = len(items) / limit
            items = [items[int(i * step)] for i in range(limit)]
        directory = os.path.join(output, target)
        os.makedirs(directory, exist_ok=True)
        for item in items:
            data = item.encode("utf-8")
            name = hashlib.sha1(data).hexdigest()
            with open(os.path.join(directory, name), "wb") as seed:
                seed.write(data)
        print(f"{target}: {len(items)} seeds in {directory}")


if __name__ == "__main__":
    main()
