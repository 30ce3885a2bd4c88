#!/usr/bin/env bash
# mutants.sh [LIST] -- mutation testing: apply each small deliberate bug of
# LIST (tests/mutants/mutants.txt) to the source, one at a time, build,
# run the tests that should catch it, and say whether they did.
#
# A line of the list is five fields separated by tabs:
#   file  text to find  text to put instead  test programs  what it breaks
# The text must occur exactly once in the file.  The test programs are
# names under $BUILD/tests/ (e.g. "cases privacy"), run as `make test`
# runs them.  Lines starting with # and blank lines are skipped.
#
# A mutant is killed when one of its test programs fails, survived when
# all pass; one that does not build, or whose text is not found exactly
# once, is broken (a stale list): that fails the run as a survivor does.
# The sources are restored after each mutant (and on interrupt).  Builds
# go to build-mutants/ so build/ is left alone.
set -uo pipefail
cd "$(dirname "$0")/.."
list=${1:-tests/mutants/mutants.txt}
build=${BUILD:-build-mutants}
export SYNTH_BUILD=$PWD/$build SYNTH_ROOT=$PWD
make -s BUILD="$build" all >/dev/null || { echo "mutants: the build fails before any mutant" >&2; exit 2; }

saved="" file=""
restore() {
    if [ -n "$saved" ]; then
        cp "$saved" "$file" && touch "$file" && rm -f "$saved"
        saved=""
    fi
}
trap 'restore; exit 130' INT TERM

killed=0 survived=0 broken=0 n=0
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    n=$((n + 1))
    IFS=$'\t' read -r file from to tests why <<<"$line"
    # the text must occur exactly once; replaced literally (\n in the
    # list is a newline), with perl, which every Debian has
    saved=$(mktemp)
    cp "$file" "$saved"
    count=$(FROM="$from" TO="$to" perl -0777 -e '
        my ($f, $t) = ($ENV{FROM}, $ENV{TO});
        s/\\n/\n/g for $f, $t;
        local $_ = <STDIN>;
        my $n = () = /\Q$f\E/g;
        s/\Q$f\E/$t/ if $n == 1;
        print STDERR $n;
        print STDOUT $_;' < "$saved" 2>&1 > "$file.mutant")
    if [ "$count" != 1 ]; then
        echo "BROKEN   #$n $file: the text occurs ${count:-?} times: $from"
        broken=$((broken + 1))
        rm -f "$file.mutant" "$saved"
        saved=""
        continue
    fi
    mv "$file.mutant" "$file"
    if ! make -s BUILD="$build" all >/dev/null 2>&1; then
        echo "BROKEN   #$n $file: does not build with: $to"
        broken=$((broken + 1))
        restore
        continue
    fi
    verdict=survived
    by=""
    for t in $tests; do
        if ! "$build/tests/$t" >/dev/null 2>&1; then
            verdict=killed
            by=$t
            break
        fi
    done
    if [ "$verdict" = killed ]; then
        killed=$((killed + 1))
        echo "killed   #$n by $by: $why"
    else
        survived=$((survived + 1))
        echo "SURVIVED #$n ($tests): $file: $why"
    fi
    restore
done < "$list"
make -s BUILD="$build" all >/dev/null 2>&1
echo "mutants: $killed killed, $survived survived, $broken broken (of $n)"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ]
