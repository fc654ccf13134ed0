#!/usr/bin/env bash
# Runs qload's two benchmarks with short settings (about 6-7 minutes on 2 cores) and prints the table:
#   1. BF16 mat-vec GB/s (qload MatMul.linear, SIMD and scalar) vs MemorySegment.copy GB/s of the same bytes, and the ratio;
#   2. decode tokens/s of a ~0.5 B synthetic Llama, qload vs Jlama 0.8.4 on the same checkpoint, and the ratio.
#
# usage: bench/run.sh [--dir DIR] [--rounds N] [--matvec-only | --decode-only] [--build] [-- more JMH options]
#   --dir DIR      where the synthetic checkpoint is (generated there if absent; default bench/target/synthetic-llama-0.5b)
#   --rounds N     run the decode benchmarks N times (default 2), so that the engines alternate in time
#   --build        rebuild bench/target/benchmarks.jar first (it is rebuilt anyway when missing or older than the sources)
#   after --       passed to every JMH invocation as is, e.g. -- -wi 1 -i 2 (fewer iterations)
# Results: bench/target/jmh-*.json (JMH JSON), bench/target/jmh.log (JMH's own output).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../tools/find-jdk25.sh
. "$root/tools/find-jdk25.sh"
qload_find_jdk || exit 1
java="$JAVA_HOME/bin/java"
target="$root/bench/target"
jar="$target/benchmarks.jar"

dir="" build="" which="all" rounds=2
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) mkdir -p "$(dirname "$2")"; dir="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --build) build=1; shift ;;
    --matvec-only) which=matvec; shift ;;
    --decode-only) which=decode; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

# Rebuild when asked, when the jar is missing, or when a source it is made of (bench, core, models, poms) is newer.
stale() {
  [ ! -f "$jar" ] && return 0
  [ -n "$(find "$root/pom.xml" "$root/bench" "$root/core" "$root/models" -name target -prune -o \
      \( -name '*.java' -o -name 'pom.xml' -o -path '*/src/main/resources/*' \) -newer "$jar" -print -quit)" ]
}
if [ -n "$build" ] || stale; then
  echo "run.sh: building bench/target/benchmarks.jar (and the qload modules it benchmarks) ..." >&2
  (cd "$root" && ./mvnw -q -B -DskipTests install -pl bench -am) >&2
fi

jvm=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
params=()
[ -n "$dir" ] && params=(-p "dir=$dir")

# jmh NAME PATTERN: one JMH invocation, its JSON in bench/target/jmh-NAME.json, its output appended to jmh.log.
jmh() {
  local name="$1" pattern="$2" status
  set +e
  # ${a[@]+...}: bash < 4.4 treats an empty array as unset under `set -u`.
  "$java" "${jvm[@]}" -jar "$jar" "$pattern" -foe true -rf json -rff "$target/jmh-$name.json" \
    ${params[@]+"${params[@]}"} ${extra[@]+"${extra[@]}"} 2>&1 | tee -a "$target/jmh.log" \
    | grep -E --line-buffered '^# (Benchmark|Parameters):|^(# Warmup )?Iteration|^\[(qload|jlama|matvec)\]|Exception|Error'
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -ne 0 ] || [ ! -s "$target/jmh-$name.json" ]; then
    echo "run.sh: JMH failed (exit $status); the end of bench/target/jmh.log:" >&2
    tail -n 40 "$target/jmh.log" >&2
    exit 1
  fi
}

commit="$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)"
echo "== $(date -u +%FT%TZ)  qload $commit  $(nproc) cores  $("$java" -version 2>&1 | head -n1)  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$which" != matvec ]; then
  # Generate (or find) the checkpoint before JMH starts, so that no fork spends its setup on it.
  gen=()
  [ -n "$dir" ] && gen=(--dir "$dir")
  "$java" "${jvm[@]}" -cp "$jar" dev.qload.bench.SyntheticLlama ${gen[@]+"${gen[@]}"}
fi

rm -f "$target"/jmh-*.json "$target/jlama-generate.txt" "$target/jmh.log"
start=$(date +%s)
files=()
if [ "$which" != decode ]; then
  jmh matvec '(MatVecBench|MatVecParallelBench)\.'
  files+=("$target/jmh-matvec.json")
fi
if [ "$which" != matvec ]; then
  for r in $(seq 1 "$rounds"); do
    echo "== decode round $r of $rounds"
    jmh "decode-$r" 'DecodeBench\.'
    files+=("$target/jmh-decode-$r.json")
  done
fi
echo
echo "== finished in $(( $(date +%s) - start )) s, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
"$java" -cp "$jar" dev.qload.bench.Summary "${files[@]}" "$target/jlama-generate.txt"
