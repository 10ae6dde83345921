#!/usr/bin/env bash
# Fleet throughput and claim latency, against `hookbox deploy` of the same project.
#
#   cargo build --bin hookbox && bash tests/bench/fleet.sh [N]   (HOOKBOX=path/to/hookbox to choose the binary)
#
# Starts a throwaway PostgreSQL cluster (initdb/pg_ctl as nobody when root, unix socket in a
# temporary folder), a project whose one pre-deploy hook prints 100 lines, then measures:
# - `hookbox deploy` of it N times in a row (one process each, the single-machine path);
# - N deployments queued first, then drained by 1, 2 and 4 `hookbox worker` processes;
# - claim latency: one deployment at a time submitted to idle workers (NOTIFY path),
#   from the submit's commit to the claim (`started_at - created_at`).
set -euo pipefail
N=${1:-40}
HOOKBOX=${HOOKBOX:-$(cd "$(dirname "$0")/../.." && pwd)/target/debug/hookbox}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
tmp=$(mktemp -d /tmp/hookbox-fleet-bench.XXXX)
chmod 755 "$tmp"
mkdir -p "$tmp/pg" "$tmp/sock"
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown nobody "$tmp/pg" "$tmp/sock"
  as_pg=(runuser -u nobody --)
fi
cleanup() {
  "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$tmp/pg/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
"${as_pg[@]}" "$PGBIN/initdb" -D "$tmp/pg/data" -A trust -U postgres --no-sync >/dev/null
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/log" -w \
  -o "-k $tmp/sock -c listen_addresses='' -c fsync=off -c synchronous_commit=off" start >/dev/null
export HOOKBOX_DATABASE_URL="host=$tmp/sock user=postgres dbname=postgres"
psql() { command psql -qtAX -h "$tmp/sock" -U postgres postgres "$@"; }
"$HOOKBOX" db migrate >/dev/null

app="$tmp/app"
mkdir -p "$app"
printf '#!/bin/bash\nfor i in $(seq 1 100); do echo "line $i"; done\n' >"$app/pre-deploy.sh"
chmod 755 "$app/pre-deploy.sh"

now() { date +%s.%N; }
rate() { echo "scale=2; $1 / ($3 - $2)" | bc; }

# Single machine: hookbox deploy, N times.
t0=$(now)
for _ in $(seq 1 "$N"); do
  "$HOOKBOX" deploy "$app" --log-file "$tmp/deploy.log" >/dev/null
done
t1=$(now)
deploy_rate=$(rate "$N" "$t0" "$t1")
echo "hookbox deploy x$N: $deploy_rate deployments/s"

for workers in 1 2 4; do
  psql -c "TRUNCATE hookbox_log_lines, hookbox_attempts, hookbox_hooks, hookbox_deployments CASCADE"
  for _ in $(seq 1 "$N"); do
    "$HOOKBOX" submit "$app" --tenant bench >/dev/null
  done
  pids=()
  t0=$(now)
  for w in $(seq 1 "$workers"); do
    "$HOOKBOX" worker --id "b$w" --work-dir "$tmp/work" --poll 100ms >/dev/null 2>&1 &
    pids+=($!)
  done
  until [ "$(psql -c "SELECT count(*) FROM hookbox_deployments WHERE state = 'done'")" -ge "$N" ]; do
    sleep 0.05
  done
  t1=$(now)
  kill -TERM "${pids[@]}"
  wait "${pids[@]}" 2>/dev/null || true
  r=$(rate "$N" "$t0" "$t1")
  ok=$(psql -c "SELECT count(*) FROM hookbox_deployments WHERE status = 'success'")
  echo "fleet, $workers worker(s): $r deployments/s ($ok/$N success), ratio to deploy: $(echo "scale=2; $r / $deploy_rate" | bc)"
done

# Claim latency: idle workers, one submit at a time.
psql -c "TRUNCATE hookbox_log_lines, hookbox_attempts, hookbox_hooks, hookbox_deployments CASCADE"
pids=()
for w in 1 2; do
  "$HOOKBOX" worker --id "l$w" --work-dir "$tmp/work" --poll 2s >/dev/null 2>&1 &
  pids+=($!)
done
sleep 1
for _ in $(seq 1 20); do
  "$HOOKBOX" submit "$app" --tenant latency --wait >/dev/null
done
kill -TERM "${pids[@]}"
wait "${pids[@]}" 2>/dev/null || true
psql -c "SELECT 'claim latency ms: median ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1)
                || ', p90 ' || round(percentile_cont(0.9) WITHIN GROUP (ORDER BY ms)::numeric, 1)
                || ', max ' || round(max(ms)::numeric, 1)
         FROM (SELECT extract(epoch FROM started_at - created_at) * 1000 AS ms FROM hookbox_deployments) x"
