#!/usr/bin/env bash
# The README's test command: installs what the tests need on a fresh Debian machine,
# starts a loopback-only avahi-daemon (scripts/avahi/start.sh), builds, and runs every test.
# Usage: scripts/test.sh [--fuzz-seconds N]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
ensure_deps
ensure_python_deps

fuzz_seconds=0
while [ $# -gt 0 ]; do
  case "$1" in
    --fuzz-seconds) fuzz_seconds="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

# mDNS for the discovery and real-process tests: a system D-Bus and avahi-daemon with
# allow-interfaces=lo (scripts/avahi/avahi-daemon.conf), so nothing leaves this machine.
scripts/avahi/start.sh

export PATH="/opt/swift/usr/bin:$PATH"
# Routing and invoice vectors are current with their independent Python generator.
python3 scripts/vectors/gen_routing_vectors.py --check
# A2A payment messages and the L402 root key derivation (Specs/vectors/a2a.json), the same way.
python3 scripts/vectors/gen_a2a_vectors.py --check
python3 scripts/vectors/gen_negotiation_vectors.py --check
swift build --build-tests
# Suites that stop and restart the shared avahi-daemon run on their own, one after the other,
# so that no other test sees the daemon vanish; everything else runs in parallel.
daemon_suites='RealDaemonTests|RealProcessDiscoveryTests'
# 20 gossiping processes also run alone (they would slow every other test of the parallel run).
alone_suites="$daemon_suites|RealProcessGossipMeshTests|RoutedPaymentsTests|RoutedPaymentsRecoveryTests|TimedGatewayTests|TimedFetchTests|FetchOpenTests|MeteredResumeTests|RealProcessA2ACrashTests"
# Every run is bounded: a hung test fails the run (exit 124) instead of holding CI to its limit.
timeout -k 30 1800 swift test --skip-build --parallel --skip "$alone_suites"
timeout -k 30 300 swift test --skip-build --filter RealProcessGossipMeshTests
# Routed payments on the in-memory network fail under the parallel run's load (known, not yet
# explained: see the session notes); they run on their own until that is found.
timeout -k 30 300 swift test --skip-build --filter "RoutedPaymentsTests|RoutedPaymentsRecoveryTests"
# Per-second services stream real seconds (1 s steps, a slow upstream): their timing assertions
# need a machine that is not running the parallel suites. FetchOpenTests (real buyer processes)
# join them to keep the parallel run's load down.
# Real processes killed with SIGKILL between paid steps (an A2A skill that runs for 60 s, a
# metered session the gateway keeps 60 s): run with them, away from the parallel run's load.
timeout -k 30 600 swift test --skip-build --filter "TimedGatewayTests|TimedFetchTests|FetchOpenTests|MeteredResumeTests|RealProcessA2ACrashTests"
timeout -k 30 600 swift test --skip-build --filter RealDaemonTests
timeout -k 30 600 swift test --skip-build --filter RealProcessDiscoveryTests
# Prometheus metrics of two real nodes after a known workload, parsed by prometheus-client.
timeout -k 30 600 python3 scripts/metrics/test_metrics.py
# The live web view in headless Chromium: a 5-node mesh, every node and channel drawn, a payment
# shown within a second; screenshot in .ci-artifacts/webview.png.
timeout -k 30 180 python3 scripts/webview/test_webview.py
# Every command block of README.md run as written (or skipped with its reason), output checked.
timeout -k 30 300 python3 scripts/readme/test_readme_commands.py
if [ "$fuzz_seconds" -gt 0 ]; then
  scripts/fuzz.sh --seconds "$fuzz_seconds"
fi
