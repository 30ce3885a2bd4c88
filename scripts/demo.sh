#!/bin/sh
# demo.sh HOST -- run synthhost on the shipped example log with
# conf/synth.conf and show what it wrote.  Called by `make demo`.
set -eu
host=${1:-build/synthhost}
out=synthetic-data

echo "== synthhost -c conf/synth.conf   (examples/agent-log.jsonl -> $out/)"
"$host" -c conf/synth.conf
echo
for f in $(ls -t "$out"/*.jsonl | head -n 2); do
    echo "== $f: $(wc -l < "$f") records; the first one:"
    head -n 1 "$f"
    echo
done
