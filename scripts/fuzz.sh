#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ and runs each for SECONDS (default 30) from its committed seed corpus
# Fuzz/Corpus/<target>, one target at a time, one process each (docs/fuzzing.md).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     targets: safetensors mat jpeg png manifest cache settings dicom nifti (default: all)
#
# FUZZ_SEED=N fixes libFuzzer's random seed (CI does, so that a commit's run is the same run each time).
# New inputs go to $FUZZ_WORK/corpus/<target> (default .build/fuzz), never into the committed corpus; a crash,
# hang or out-of-memory input is written to $FUZZ_WORK/findings/ and the script exits 1 after the last target.
# Each target's log is $FUZZ_WORK/<target>.log; one summary line per target is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors mat jpeg png manifest cache settings dicom nifti)
work="${FUZZ_WORK:-$PWD/.build/fuzz}"
mkdir -p "$work/findings"

# `--sanitize fuzzer` makes SwiftPM keep libFuzzer's main; the compiler takes one -sanitize list (the last),
# so fuzzer and address are given again together. The C and C++ shims (CDICOM, CNIfTI) get only -fsanitize=fuzzer
# from SwiftPM: -Xcc/-Xcxx add ASan to them. -enable-testing: the targets `@testable import` the readers.
build=(swift build --package-path Fuzz -c release -j 1 --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address
       -Xcc -fsanitize=address -Xcxx -fsanitize=address -Xswiftc -enable-testing)
for target in "${targets[@]}"; do
  echo "== building fuzz-$target"
  "${build[@]}" --product "fuzz-$target" 2>&1 | grep -v "warning: Cannot export local symbol" | tail -n 3
done
bin="$("${build[@]}" --show-bin-path)"

# Swift's own crash backtracer would take over libFuzzer's crash report (and can hang): off.
export SWIFT_BACKTRACE=enable=no
# allocator_may_return_null: a request beyond ASan's 1 TB limit returns NULL, as glibc's malloc does in the
# shipped build (libhdf5 then reports the damaged file; docs/fuzzing.md); leaks: Swift's runtime caches are no finding.
export ASAN_OPTIONS="${ASAN_OPTIONS:-allocator_may_return_null=1:detect_leaks=0}"
failed=0
summary=()
for target in "${targets[@]}"; do
  corpus="$work/corpus/$target"
  mkdir -p "$corpus"
  options=()
  [ -f "Fuzz/Dictionaries/$target.dict" ] && options+=(-dict="Fuzz/Dictionaries/$target.dict")
  [ -n "${FUZZ_SEED:-}" ] && options+=(-seed="$FUZZ_SEED")
  # libhdf5 allocates a metadata entry's declared size (4 GB, 21 GB from 5.8 KB files: findings 13, 21) before it
  # finds the entry runs past the end of the file; the memory is never touched and is freed with the error
  # (docs/fuzzing.md). For the .mat target only the memory actually used counts: the 2 GB RSS limit stays, the
  # malloc limit is ASan's own largest allocation (1 TiB; beyond it malloc returns NULL, as allocator_may_return_null).
  [ "$target" = mat ] && options+=(-malloc_limit_mb=1048576)
  log="$work/$target.log"
  echo "== fuzz-$target for ${seconds} s (log: $log)"
  status=0
  "$bin/fuzz-$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/findings/$target-" "${options[@]}" "$corpus" "Fuzz/Corpus/$target" > "$log" 2>&1 || status=$?
  runs=$(grep -o "stat::number_of_executed_units: *[0-9]*" "$log" | grep -o "[0-9]*$" || true)
  speed=$(grep -o "stat::average_exec_per_sec: *[0-9]*" "$log" | grep -o "[0-9]*$" || true)
  coverage=$(grep -oE "cov: [0-9]+ ft: [0-9]+" "$log" | tail -n 1 || true)
  line="fuzz-$target: ${seconds} s, ${runs:-?} executions, ${speed:-?} exec/s, ${coverage:-no coverage line}"
  if [ "$status" -ne 0 ]; then
    failed=1
    line="$line, FAILED (exit $status): $(grep -oE "Test unit written to .*" "$log" | tail -n 1)"
    grep -E "^(==[0-9]+==ERROR|SUMMARY|Fatal error|.*ERROR: libFuzzer)" "$log" | head -n 5 || true
  fi
  summary+=("$line")
done
printf '%s\n' "== fuzzing summary" "${summary[@]}"
exit "$failed"
