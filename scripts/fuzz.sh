#!/usr/bin/env bash
# Builds every libFuzzer target in Fuzz/ (all modules instrumented with -sanitize=fuzzer,address)
# and runs each for a given time over its committed seed corpus. A crash fails the script and
# leaves the input in Fuzz/artifacts/; copy it into Fuzz/Regressions/<Target>/ so that the test
# suite replays it forever after (the fuzzer also starts from those files). Fuzz/README.md
# describes the targets and their input layouts.
#   scripts/fuzz.sh [--seconds N] [Target …]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
seconds=30
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  for d in Fuzz/Sources/Fuzz*/main.swift; do   # executables only (not FuzzSupport, FuzzHarness)
    targets+=("$(basename "$(dirname "$d")")")
  done
fi

# SwiftPM names a path dependency after its directory: a checkout called "fuzz" would collide
# with this Fuzz/ package and the build would not find the Paymesh products.
if [ "$(basename "$PWD" | tr '[:upper:]' '[:lower:]')" = fuzz ]; then
  echo "fuzz.sh: the checkout directory must not be named 'fuzz' (SwiftPM identity clash with Fuzz/)" >&2
  exit 2
fi

flags=(-c release --package-path Fuzz --scratch-path .build-fuzz
       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld)
start=$SECONDS
swift build "${flags[@]}" 2>&1 | { grep -v "Cannot export local symbol" || true; }   # fails on a build error
bin=$(swift build "${flags[@]}" --show-bin-path)
echo "== fuzz build: $((SECONDS - start))s"

# A crash should end in libFuzzer's report, not in the Swift runtime's backtracer.
export SWIFT_BACKTRACE=enable=no
mkdir -p Fuzz/artifacts
status=0
for t in "${targets[@]}"; do
  work=$(mktemp -d)               # new inputs found this run; the committed corpus stays as it is
  mkdir -p "Fuzz/Corpus/$t" "Fuzz/Regressions/$t"
  echo "== fuzzing $t for ${seconds}s"
  if ! "$bin/$t" -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=70000 \
        -artifact_prefix="Fuzz/artifacts/$t-" -print_final_stats=1 "$work" "Fuzz/Corpus/$t" "Fuzz/Regressions/$t" \
        > "Fuzz/artifacts/$t.log" 2>&1; then
    echo "!! $t found a failure; see Fuzz/artifacts/$t.log"; tail -40 "Fuzz/artifacts/$t.log"; status=1
  else
    grep -E "DONE|stat::number_of_executed_units" "Fuzz/artifacts/$t.log" | tail -2
  fi
  rm -rf "$work"
done
exit $status
