#!/usr/bin/env bash
# make demo: a project folder, sample data, a pipeline run, and the KPIs.
set -euo pipefail
dir="${1:-demo}"
sp=".venv/bin/salespipe"
if [ ! -f "$dir/salespipe.yaml" ]; then
  "$sp" init "$dir"
fi
if [ -z "$(ls -A "$dir/landing/pos" 2>/dev/null)" ] && [ -z "$(ls -A "$dir/landing/pos/processed" 2>/dev/null)" ]; then
  "$sp" generate --out "$dir/landing/pos" --days 120 --rows-per-day 2500 --dirty-rate 0.01 --seed 7
fi
"$sp" --config "$dir/salespipe.yaml" run || true
"$sp" --config "$dir/salespipe.yaml" kpi
echo
echo "warehouse: $(cd "$dir" && pwd)/warehouse.duckdb"
echo "try:       $sp --config $dir/salespipe.yaml status"
echo "           $sp --config $dir/salespipe.yaml quarantine list"
