#!/usr/bin/env python3
"""repeat-log.py LOG MEGABYTES OUT -- a larger log made of copies of LOG.

Copy n gets context ids suffixed with "~n" and every timestamp moved n
hours later, so the copies are new sessions in a log that moves forward in
time, as a real agent's log does.  A stopgap for sizing runs until the
seeded generator of `make bench` exists.
"""
import json
import sys

src, megabytes, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
lines = open(src, encoding="utf-8").read().splitlines()
want = int(megabytes * 1024 * 1024)
written, copy = 0, 0
with open(out, "w", encoding="utf-8") as f:
    while written < want:
        for line in lines:
            o = json.loads(line)
            o["contextId"] = f"{o['contextId']}~{copy}"
            log = o.get("log", o)
            if isinstance(log.get("timestamp"), int):
                log["timestamp"] += copy * 3600 * 1000
            s = json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n"
            f.write(s)
            written += len(s.encode("utf-8"))
            if written >= want:
                break
        copy += 1
print(f"{out}: {written} bytes, {copy} copies")
