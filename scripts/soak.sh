#!/usr/bin/env bash
# Soak: a release `paymesh start` node (soft descriptor limit 1024) serving a legitimate payer
# that pays 500/s, while hostile peers (Sources/PaymeshHostile) attack it one after the other:
# stalled handshakes, ping flood, error-reply flood with zero window, handshake-then-close churn,
# throwaway-identity bans, maxPeers fill + payer restart, channel-open flood; quiet phases before
# and after. Prints per phase the payer's acked payments/s and ack p50/p99 against the quiet
# baseline, the node's peak RSS and descriptors, RSS after the attack, and crashes (must be 0).
#   scripts/soak.sh [--seconds-per-attack S] [--smoke] [--no-build] [paymesh-bench soak options…]
# Default 35 s per phase (9 phases + 5 s recovery each, about 6–7 minutes); --smoke runs 5 s
# phases (about 1.5 minutes); a larger --seconds-per-attack runs longer. Loopback only.
# Not part of .ci/run: it measures, it does not pass or fail on timings.
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
args=()
seconds=35
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) seconds=5; shift ;;
    --seconds-per-attack) seconds="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
case "$seconds" in ''|*[!0-9.]*) echo "soak.sh: --seconds-per-attack needs a number of seconds, got '$seconds'" >&2; exit 2 ;; esac

export PATH="/opt/swift/usr/bin:$PATH"
if [ "$build" = 1 ]; then
  command -v swift >/dev/null || { echo "soak.sh: swift not found (expected in /opt/swift/usr/bin)" >&2; exit 1; }
  echo "== building release paymesh and paymesh-bench"
  swift build -c release --product paymesh
  swift build -c release --product paymesh-bench
fi
bin=".build/release"
for exe in paymesh paymesh-bench; do
  if [ ! -x "$bin/$exe" ]; then
    echo "soak.sh: $bin/$exe is missing: run without --no-build, or: swift build -c release --product $exe" >&2
    exit 1
  fi
done

# Every phase is bounded inside the bench; this outer bound catches anything else
# (9 phases × (S + 5 s recovery + 30 s slack) + 2 min setup).
limit=$(awk -v s="$seconds" 'BEGIN { printf "%d", 9 * (s + 35) + 120 }')
echo "== soak: ${seconds} s per phase (hard limit ${limit} s)"
# stdbuf: progress lines show up as they happen, also through a pipe.
exec timeout --kill-after=10 "$limit" stdbuf -oL "$bin/paymesh-bench" soak --seconds-per-attack "$seconds" "${args[@]}"
