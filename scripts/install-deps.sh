#!/bin/sh
# install-deps.sh -- install the Debian packages synthhost needs to build
# and test, only those that are missing.  Used by `make demo` and .ci/run.
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --ci     also the tools CI runs (valgrind, and
#                                    chromium for the HTML report test)
#   scripts/install-deps.sh --bench  also what `make bench` measures with
#                                    (GNU time for peak RSS, pkill)
set -eu

pkgs="gcc make pkg-config libc6-dev libjansson-dev libconfig-dev \
libpcre2-dev libcmocka-dev libsodium-dev libjemalloc-dev"
case "${1:-}" in
--ci) pkgs="$pkgs valgrind chromium" ;;
--bench) pkgs="$pkgs time procps" ;;
esac

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
