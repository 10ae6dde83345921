#!/usr/bin/env bash
# Whole-process speed of the release `hookbox shell` against bash and dash, every peer in this
# one run (BENCHMARKS.md, "Speed"). Usage, from the repository root:
#   cargo build --release -p hookbox && bash tests/bench/speed.sh [RUNS]
# RUNS (default 200) start-ups per peer; the CPU loop runs 3 times per peer (median).
set -euo pipefail
runs=${1:-200}
hookbox=${HOOKBOX:-target/release/hookbox}
[[ -x $hookbox ]] || { echo "build it first: cargo build --release -p hookbox" >&2; exit 2; }
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
export HOOKBOX_CACHE_DIR=$cache

# Median wall time in microseconds of running "$@" once, over N runs.
median_us() {
  local n=$1; shift
  local times=() t0 t1
  for ((k = 0; k < n; k++)); do
    t0=$(date +%s%N)
    "$@" >/dev/null
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (n + 1) / 2 ))p"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# The first run compiles the shell into the cache; it is not a start-up's cost.
"$hookbox" shell -c 'echo ok' >/dev/null

ours=$(median_us "$runs" "$hookbox" shell -c 'echo ok')
bash_us=$(median_us "$runs" bash -c 'echo ok')
dash_us=$(median_us "$runs" dash -c 'echo ok')
echo "start echo-ok: hookbox=${ours}us bash=${bash_us}us dash=${dash_us}us hookbox/bash=$(ratio "$ours" "$bash_us") hookbox/dash=$(ratio "$ours" "$dash_us")"

loop='s=; n=0; for ((i = 0; i < 100000; i++)); do s="${s:0:20}$i"; (( n += i % 7 )); done; echo "${#s} $n"'
ours=$(median_us 3 "$hookbox" shell -c "$loop")
bash_us=$(median_us 3 bash -c "$loop")
echo "cpu loop 100000: hookbox=$((ours / 1000))ms bash=$((bash_us / 1000))ms hookbox/bash=$(ratio "$ours" "$bash_us")"

subst='n=0; for ((i = 0; i < 2000; i++)); do x=$(echo "$i"); (( n += ${#x} )); done; echo $n'
ours=$(median_us 3 "$hookbox" shell -c "$subst")
bash_us=$(median_us 3 bash -c "$subst")
echo "\$(...) loop 2000: hookbox=$((ours / 1000))ms bash=$((bash_us / 1000))ms hookbox/bash=$(ratio "$ours" "$bash_us")"
