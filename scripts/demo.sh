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
# "synthhost: wrote N <format> records (mean score S) to <path>"
paths=""
for line in $(sed -n 's/^synthhost: wrote \([0-9]*\) \([^ ]*\) records.* to \(.*\)$/\1|\2|\3/p' "$log"); do
    n=${line%%|*}; rest=${line#*|}; format=${rest%%|*}; path=${rest#*|}
    echo "== $format: $n records in $path; the first one:"
    head -n 1 "$path" | cut -c 1-400
    echo
    paths="$paths $path"
done

# a second `make demo` finds the same log already processed (checkpoint)
for path in $(sed -n 's/^synthhost: already written: //p' "$log"); do
    echo "== $path (written by an earlier run); the first record:"
    head -n 1 "$path" | cut -c 1-400
    echo
    paths="$paths $path"
done

echo "== synthhost analyze --html synthetic-data/report.html ..."
# shellcheck disable=SC2086
"$host" analyze --html synthetic-data/report.html $paths > synthetic-data/analysis.json
echo "   (the full analysis is in synthetic-data/analysis.json)"
