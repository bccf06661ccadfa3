#!/usr/bin/env bash
# Single-stream greedy decode, Loro next to llama.cpp, on the same weights, prompt ids, new-token count and thread
# count, the two engines interleaved (loro, llama.cpp, loro, llama.cpp, ...) so a busy machine slows both alike.
# Prints decode and prefill tokens/s min / median / max per engine and thread count, and whether the greedy tokens agree.
#
# Usage: bench/decode-vs-llama-cpp.sh [MODEL_DIR]
#   MODEL_DIR: a Loro/HF checkpoint; without it the vocab128k-89m shape is initialised into $WORK/model.
# Environment: ROUNDS (3), NEW (64), THREADS ("1 2"), ITERS (loro iterations per round, 2), WORK (/tmp/loro-decode-vs),
#   NLC (the folder holding node_modules/node-llama-cpp, /tmp/nlc), JAR (cli/target/loro-cli.jar; build it with
#   mvn -B -q -pl cli -am package -DskipTests).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}; NEW=${NEW:-64}; THREADS=${THREADS:-"1 2"}; ITERS=${ITERS:-2}
WORK=${WORK:-/tmp/loro-decode-vs}; NLC=${NLC:-/tmp/nlc}; JAR=${JAR:-cli/target/loro-cli.jar}
[ -f "$JAR" ] || { echo "missing $JAR: build with mvn -B -q -pl cli -am package -DskipTests" >&2; exit 2; }
[ -d "$NLC/node_modules/node-llama-cpp" ] || { echo "missing $NLC/node_modules/node-llama-cpp (npm install node-llama-cpp@3.22.1 there, or set NLC)" >&2; exit 2; }
mkdir -p "$WORK"
LORO="java -Xss4m -jar $JAR"
MODEL=${1:-}
if [ -z "$MODEL" ]; then
  MODEL=$WORK/model
  [ -f "$MODEL/config.json" ] || $LORO init-model --config recipes/shapes/vocab128k-89m.json --out "$MODEL" >/dev/null
fi
GGUF=$WORK/$(basename "$MODEL")-f32.gguf
[ -f "$GGUF" ] && [ "$GGUF" -nt "$MODEL/config.json" ] || $LORO export gguf --model "$MODEL" --out "$GGUF" --dtype f32 >/dev/null
cp bench/decode-time.mjs "$NLC/.loro-decode-time.mjs"
IDS=$(python3 -c 'print(",".join(str(1000 + 37 * i) for i in range(32)))')
OUT=$WORK/results.jsonl; : > "$OUT"
echo "model $MODEL, gguf $GGUF, prompt 32 ids 1000,1037,..., $NEW new tokens, greedy, $ROUNDS rounds; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
  for t in $THREADS; do
    OMP_NUM_THREADS=$t $LORO bench --model "$MODEL" --decode-only --prompt-ids "$IDS" --new-tokens "$NEW" --iters "$ITERS" --json 2>/dev/null | tail -1 >> "$OUT"
    node "$NLC/.loro-decode-time.mjs" "$GGUF" "$t" "$NEW" "$ITERS" "$IDS" 2>/dev/null | tail -1 >> "$OUT"
  done
done
python3 - "$OUT" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
groups = {}
for r in rows:
    groups.setdefault((r["threads"], r["engine"]), []).append(r)
print(f"{'threads':>7} {'engine':>10} {'decode tok/s min/median/max':>30} {'prefill tok/s min/median/max':>30}  runs")
tokens = {}
for (t, e), rs in sorted(groups.items()):
    d = [x for r in rs for x in r["decode_tokens_per_s"]]; p = [x for r in rs for x in r["prefill_tokens_per_s"]]
    f = lambda v: f"{min(v):.1f} / {statistics.median(v):.1f} / {max(v):.1f}"
    print(f"{t:>7} {e:>10} {f(d):>30} {f(p):>30}  {len(d)}")
    tokens.setdefault(t, {})[e] = rs[0]["greedy_tokens"]
for t, by in sorted(tokens.items()):
    if len(by) == 2:
        a, b = by["loro"], by["llama.cpp"]
        same = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        print(f"threads {t}: greedy tokens agree for the first {same} of {min(len(a), len(b))}")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
