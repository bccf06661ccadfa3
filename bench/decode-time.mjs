// Single-stream greedy decode speed of llama.cpp (npm node-llama-cpp, its prebuilt CPU build) on a GGUF file.
// Measures, per round: prefill tokens/s (the prompt evaluated up to the first sampled token, prompt length / that
// time) and decode tokens/s (the NEW tokens after the first, / their wall time), temperature 0, one sequence.
// Prints one JSON line per run, the same fields `loro bench --decode-only --json` prints.
//
// Usage: NODE_PATH=/tmp/nlc/node_modules node bench/decode-time.mjs MODEL.gguf THREADS NEW_TOKENS ROUNDS PROMPT_IDS
//   PROMPT_IDS: comma-separated token ids, e.g. 1000,1037,1074 (no BOS is added)
// (node resolves bare imports from the script's folder upward, so bench/decode-vs-llama-cpp.sh runs a copy of this
// file inside the node-llama-cpp install folder.)
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const [,, path, threadsArg, newArg, roundsArg, idsArg] = process.argv;
if (!path || !threadsArg || !newArg || !roundsArg || !idsArg) {
  console.error("usage: node decode-time.mjs MODEL.gguf THREADS NEW_TOKENS ROUNDS PROMPT_IDS");
  process.exit(2);
}
const threads = Number(threadsArg), nNew = Number(newArg), rounds = Number(roundsArg);
const prompt = idsArg.split(",").map(Number);
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath: path});
const ctx = await model.createContext({contextSize: 512, sequences: 1, threads, flashAttention: false});
const seq = ctx.getSequence();
const prefill = [], decode = [];
let tokens = [];
for (let rep = 0; rep < rounds + 1; rep++) { // round 0 warms up
  await seq.clearHistory();
  const out = [];
  const t0 = performance.now();
  let first = 0;
  for await (const tok of seq.evaluate(prompt, {temperature: 0})) {
    out.push(tok);
    if (out.length === 1) first = performance.now();
    if (out.length >= nNew + 1) break;
  }
  const t1 = performance.now();
  if (rep > 0) {
    prefill.push(Math.round(prompt.length / ((first - t0) / 1000) * 100) / 100);
    decode.push(Math.round((out.length - 1) / ((t1 - first) / 1000) * 100) / 100);
  }
  tokens = out;
}
console.log(JSON.stringify({engine: "llama.cpp", threads, prompt_tokens: prompt.length, new_tokens: nNew,
  prefill_tokens_per_s: prefill, decode_tokens_per_s: decode, greedy_tokens: tokens.slice(0, nNew)}));
await ctx.dispose(); await model.dispose(); await llama.dispose();
