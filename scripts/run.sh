#!/usr/bin/env bash
# The README's main command: installs what is needed on a fresh Debian machine, builds in
# release mode, and runs the wire stack live: real endpoints on loopback TCP doing Noise XX
# handshakes with identity proofs, multiplexed streams and framed messages, with the measured
# figures printed. (It becomes `paymesh mesh up` once the node runtime lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
ensure_deps
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release --product paymesh-bench
.build/release/paymesh-bench wire --seconds "${PAYMESH_BENCH_SECONDS:-3}"
