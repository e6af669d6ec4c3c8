#!/usr/bin/env bash
# The README's test command: installs what the tests need on a fresh Debian machine,
# builds, and runs every test. Usage: scripts/test.sh [--fuzz-seconds N]
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

export PATH="/opt/swift/usr/bin:$PATH"
swift build --build-tests
swift test --skip-build --parallel
if [ "$fuzz_seconds" -gt 0 ]; then
  scripts/fuzz.sh --seconds "$fuzz_seconds"
fi
