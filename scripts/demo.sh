#!/bin/sh
# demo.sh HOST -- run synthhost on the shipped example log with
# conf/synth.conf and show what it wrote.  Called by `make demo`.
set -eu
host=${1:-build/synthhost}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== synthhost -c conf/synth.conf   (examples/agent-log.jsonl -> synthetic-data/)"
"$host" -c conf/synth.conf 2>"$log" || { cat "$log"; exit 1; }
cat "$log"
echo
# "synthhost: wrote N <format> records to <path>"
sed -n 's/^synthhost: wrote \([0-9]*\) \([^ ]*\) records to \(.*\)$/\1 \2 \3/p' "$log" |
while read -r n format path; do
    echo "== $format: $n records in $path; the first one:"
    head -n 1 "$path" | cut -c 1-400
    echo
done
