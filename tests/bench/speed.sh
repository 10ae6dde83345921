#!/usr/bin/env bash
# Whole-process speed of the release `hookbox shell` against bash and dash, every peer in this
# one run (BENCHMARKS.md, "Speed"). Usage, from the repository root:
#   cargo build --release -p hookbox -p hookbox-shell && bash tests/bench/speed.sh [RUNS]
# RUNS (default 200) start-ups per peer; the loops and the pipeline run 3 times per peer
# (median). With target/release/hookbox-shell (the same interpreter built natively, by the
# command above) each loop also gets a native-build column.
set -euo pipefail
runs=${1:-200}
hookbox=${HOOKBOX:-target/release/hookbox}
[[ -x $hookbox ]] || { echo "build it first: cargo build --release -p hookbox" >&2; exit 2; }
hookbox=$(realpath "$hookbox")
native=${HOOKBOX_SHELL_NATIVE:-target/release/hookbox-shell}
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

# " native=Nms native/bash=R" for script "$1" when the native build exists, else nothing.
native_column() {
  [[ -x $native ]] || return 0
  local us
  us=$(median_us 3 "$native" -c "$1")
  echo " native=$((us / 1000))ms native/bash=$(ratio "$us" "$2")"
}

# The first run compiles the shell into the cache; it is not a start-up's cost.
"$hookbox" shell -c 'echo ok' >/dev/null

ours=$(median_us "$runs" "$hookbox" shell -c 'echo ok')
bash_us=$(median_us "$runs" bash -c 'echo ok')
dash_us=$(median_us "$runs" dash -c 'echo ok')
echo "start echo-ok: hookbox=${ours}us bash=${bash_us}us dash=${dash_us}us hookbox/bash=$(ratio "$ours" "$bash_us") hookbox/dash=$(ratio "$ours" "$dash_us")"

loop='s=; n=0; for ((i = 0; i < 100000; i++)); do s="${s:0:20}$i"; (( n += i % 7 )); done; echo "${#s} $n"'
ours=$(median_us 3 "$hookbox" shell -c "$loop")
bash_us=$(median_us 3 bash -c "$loop")
echo "cpu loop 100000: hookbox=$((ours / 1000))ms bash=$((bash_us / 1000))ms hookbox/bash=$(ratio "$ours" "$bash_us")$(native_column "$loop" "$bash_us")"

subst='n=0; for ((i = 0; i < 2000; i++)); do x=$(echo "$i"); (( n += ${#x} )); done; echo $n'
ours=$(median_us 3 "$hookbox" shell -c "$subst")
bash_us=$(median_us 3 bash -c "$subst")
echo "\$(...) loop 2000: hookbox=$((ours / 1000))ms bash=$((bash_us / 1000))ms hookbox/bash=$(ratio "$ours" "$bash_us")$(native_column "$subst" "$bash_us")"

# A pipeline of the guest's own tools over 10 MB of text, in a directory the shell is granted
# (its current directory); bash runs the same words as GNU coreutils processes.
text=$(mktemp -d)
trap 'rm -rf "$cache" "$text"' EXIT
awk 'BEGIN { for (i = 0; i < 320000; i++) printf "word%d value %d alpha beta\n", i % 1000, i }' > "$text/big.txt"
pipe='cat big.txt | tr a-z A-Z | cut -d" " -f1,2 | sort | uniq -c | wc -l'
ours=$(cd "$text" && median_us 3 "$hookbox" shell -c "$pipe")
bash_us=$(cd "$text" && median_us 3 bash -c "$pipe")
mb=$(( $(wc -c < "$text/big.txt") / 1000000 ))
native=$(realpath -q "$native" || true)
echo "pipeline ${mb}MB: hookbox=$((ours / 1000))ms bash=$((bash_us / 1000))ms hookbox/bash=$(ratio "$ours" "$bash_us")$(cd "$text" && native_column "$pipe" "$bash_us")"
