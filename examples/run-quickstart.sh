#!/usr/bin/env bash
# `make run`: runs the quickstart pipeline on the bundled data and shows where
# everything went. Usage: examples/run-quickstart.sh PATH/TO/sluice
set -euo pipefail
sluice=$1
cd "$(dirname "$0")/.."
rm -rf out/quickstart
"$sluice" run examples/quickstart.yaml
echo
echo "Results:"
for f in out/quickstart/*.jsonl; do
  printf '  %-40s %6d records\n' "$f" "$(wc -l < "$f")"
done
if [ -f out/quickstart/dlq/dlq.jsonl ]; then
  printf '  %-40s %6d records (dead letters: why each failed is inside)\n' \
    out/quickstart/dlq/dlq.jsonl "$(wc -l < out/quickstart/dlq/dlq.jsonl)"
  echo
  echo "A dead letter (each has the raw bytes, the reason and the exact position):"
  grep -m 1 '"reason":"parse_failed"' out/quickstart/dlq/dlq.jsonl || head -n 1 out/quickstart/dlq/dlq.jsonl
fi
