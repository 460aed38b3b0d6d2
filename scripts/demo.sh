#!/usr/bin/env bash
# make demo: a project folder, sample data, a pipeline run, the KPIs, then the REST API and
# the live dashboard in the background (their URLs and how to stop them are printed).
set -euo pipefail
dir="${1:-demo}"
sp=".venv/bin/salespipe"
py=".venv/bin/python"
api_port="${DEMO_API_PORT:-8000}"
dashboard_port="${DEMO_DASHBOARD_PORT:-8501}"
pids="$dir/.demo-pids"
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

if ! "$py" -c "import fastapi, uvicorn, streamlit, plotly" 2>/dev/null; then
  echo
  echo "API and dashboard skipped: .venv/bin/pip install -e '.[api,dashboard]' adds them"
  exit 0
fi

# A previous demo's servers hold the ports and the warehouse: stop them first.
if [ -f "$pids" ]; then
  kill $(cat "$pids") 2>/dev/null || true
  rm -f "$pids"
  sleep 1
fi

# wait_for URL SECONDS PID: until URL answers 200, the process exits, or time runs out.
wait_for() {
  "$py" - "$1" "$2" "$3" <<'EOF'
import os, sys, time, urllib.request
url, seconds, pid = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit(1)
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            if resp.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(1)
EOF
}

nohup "$sp" --config "$dir/salespipe.yaml" serve --port "$api_port" >"$dir/serve.log" 2>&1 &
api_pid=$!
echo "$api_pid" >"$pids"
if ! wait_for "http://127.0.0.1:$api_port/health" 60 "$api_pid"; then
  echo "the API did not start (port $api_port busy? DEMO_API_PORT=... picks another):" >&2
  tail -n 5 "$dir/serve.log" >&2
  exit 1
fi
# The dashboard finds the API through the warehouse's discovery file.
nohup "$sp" --config "$dir/salespipe.yaml" dashboard --port "$dashboard_port" >"$dir/dashboard.log" 2>&1 &
dashboard_pid=$!
echo "$api_pid $dashboard_pid" >"$pids"
if ! wait_for "http://127.0.0.1:$dashboard_port/_stcore/health" 90 "$dashboard_pid"; then
  echo "the dashboard did not start (port $dashboard_port busy? DEMO_DASHBOARD_PORT=... picks another):" >&2
  tail -n 5 "$dir/dashboard.log" >&2
  exit 1
fi
echo
echo "API:       http://127.0.0.1:$api_port   (OpenAPI docs: http://127.0.0.1:$api_port/docs)"
echo "dashboard: http://127.0.0.1:$dashboard_port   (live: loads show up without a reload)"
echo "logs:      $dir/serve.log, $dir/dashboard.log"
echo "stop them: kill \$(cat $pids)"
