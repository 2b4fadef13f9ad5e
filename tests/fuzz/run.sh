#!/bin/sh
# Runs one libFuzzer target for a bounded time on a copy of its seed corpus
# (libFuzzer adds what it finds to its first corpus directory; the repository's
# corpus stays unchanged). Exits non-zero on any crash, leak or sanitizer report.
set -eu
target=$1; corpus=$2; seconds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
[ -d "$corpus" ] && cp -r "$corpus"/. "$work/corpus/" 2>/dev/null || true
cd "$work"
exec "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
     -print_final_stats=1 "$work/corpus"
