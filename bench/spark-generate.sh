#!/usr/bin/env bash
# Throughput and memory of `loro spark generate` (embedded Spark): rows/s at local[1] vs local[2] on the same input,
# measured alternately in one run, and peak RSS (/usr/bin/time -v) against the number of input rows (partitions
# stream, so it should stay flat). The model is recipes/shapes/tiny.json with random weights and a byte-level
# tokenizer (nothing downloaded); SAMPLES (4) samples per prompt, NEW_TOKENS (16) new tokens, temperature 1.
# Usage: bench/spark-generate.sh [ROUNDS]   (after mvn -B -DskipTests package; prints a table; work in $BENCH_DIR)
#        MODE=speed|mem|both (default both), SPEED_SIZES (default "64 256"), SIZES (memory series, default "64 256 1024")
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-2}"
samples="${SAMPLES:-4}"
newtok="${NEW_TOKENS:-16}"
mode="${MODE:-both}"
sizes="${SIZES:-64 256 1024}"
work="${BENCH_DIR:-$(mktemp -d)}"
mkdir -p "$work"
sparkjar="$(ls "$root"/spark/target/loro-spark-*.jar | grep -v -- '-tests.jar' | head -n 1)"
opens="$(sed -n '/SPARK_OPENS="/,/tryReflectionSetAccessible=true"/p' "$root/loro" | sed 's/.*SPARK_OPENS="//; s/"$//' | tr '\n' ' ')"
cp="$sparkjar:$(cat "$root/spark/target/embedded-classpath.txt"):$(cat "$root/spark/target/submit-classpath.txt")"
# shellcheck disable=SC2086
spark() { java -XX:MaxDirectMemorySize=64g -Xss4m $opens ${LORO_JAVA_OPTS:-} -cp "$cp" ai.loro.spark.SparkMain "$@"; }

[[ -d "$work/model" ]] || java -Xss4m -jar "$root/cli/target/loro-cli.jar" init-model --config "$root/recipes/shapes/tiny.json" \
  --out "$work/model" --byte-tokenizer chatml --seed 1 >/dev/null
for n in 64 256 $sizes; do
  [[ -f "$work/prompts-$n.jsonl" ]] || for i in $(seq 1 "$n"); do echo "{\"prompt\": \"prompt number $i, say something\"}"; done > "$work/prompts-$n.jsonl"
done

# one job; prints "seconds peak_rss_kb output_rows"
job() { # master rows tag
  local out="$work/out-$3"
  rm -rf "$out"
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$work/time-$3.txt" bash -c "$(declare -f spark); opens='$opens'; cp='$cp'; spark generate --model '$work/model' \
    --input '$work/prompts-$2.jsonl' --output '$out' --master '$1' --partitions 8 --num-samples $samples --temperature 1.0 \
    --max-new-tokens $newtok --seed 7 --batch-size 16 --format jsonl" >/dev/null 2>"$work/err-$3.txt" || { cat "$work/err-$3.txt" >&2; exit 1; }
  t1=$(date +%s.%N)
  local rss rows
  rss=$(grep 'Maximum resident set size' "$work/time-$3.txt" | awk '{print $NF}')
  rows=$(cat "$out"/part-* | wc -l)
  echo "$(echo "$t1 - $t0" | bc) $rss $rows"
}

echo "loro spark generate, tiny model, $samples samples x $newtok new tokens; machine: $(nproc) cores, shared with other work"
printf "%-10s %6s %7s %9s %9s %10s\n" master prompts samples seconds samples/s peak_rss_MB
[[ "$mode" == mem ]] && rounds=0
for r in $(seq 1 "$rounds"); do
  for n in ${SPEED_SIZES:-64 256}; do
    for m in 'local[1]' 'local[2]'; do # alternating, same input
      read -r s rss rows < <(job "$m" "$n" "r$r-$n-${m//[^0-9]/}")
      printf "%-10s %6d %7d %9.1f %9.1f %10.0f\n" "$m" "$n" "$rows" "$s" "$(echo "$rows / $s" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
    done
  done
done
[[ "$mode" == speed ]] && exit 0
echo "peak RSS against rows (local[2]):"
for n in $sizes; do
  read -r s rss rows < <(job 'local[2]' "$n" "mem-$n")
  printf "%-10s %6d %7d %9.1f %9.1f %10.0f\n" 'local[2]' "$n" "$rows" "$s" "$(echo "$rows / $s" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
done
