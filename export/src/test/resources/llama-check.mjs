// Reads a GGUF model in real llama.cpp (npm node-llama-cpp) and reports what it computes, for
// export/src/test/java/ai/loro/export/LlamaCppParityTest.java (copied next to node_modules by LlamaCpp.java). Usage: node llama-check.mjs REQUEST.json
// REQUEST: {"model": path, "lora": path|null, "sequences": [[ids...]...], "texts": [str...],
//           "generate": [{"ids": [...], "max": n}...], "out": path}
// Writes "out" as JSON {"vocab": n, "logprobs": [[[n floats] per position] per sequence] (as base64
// little-endian float32), "tokens": [[ids] per text], "generated": [[ids] per generate], "metadata": {...}, "eog": [ids]}.
import fs from "node:fs";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const req = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath: req.model});
const context = await model.createContext({
    contextSize: 512,
    sequences: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: "F32",
    experimentalKvCacheValueType: "F32",
    threads: 2,
    ...(req.lora ? {lora: {adapters: [{filePath: req.lora}]}} : {})
});
const sequence = context.getSequence();
const out = {vocab: model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0, logprobs: [], tokens: [], metadata: {}, eog: []};
for (const ids of req.sequences) {
    await sequence.clearHistory();
    const input = ids.map(id => [id, {generateNext: {logits: true}}]);
    const results = await sequence.controlledEvaluate(input);
    const rows = [];
    for (let i = 0; i < ids.length; i++) {
        const logits = results[i].next.logits; // Map<token, logit>
        const size = logits.size;
        const values = new Float64Array(size);
        for (const [token, logit] of logits) values[token] = logit;
        let max = -Infinity;
        for (const v of values) max = Math.max(max, v);
        let sum = 0;
        for (const v of values) sum += Math.exp(v - max);
        const lse = max + Math.log(sum);
        const lp = new Float32Array(size);
        for (let t = 0; t < size; t++) lp[t] = values[t] - lse;
        rows.push(Buffer.from(lp.buffer).toString("base64"));
    }
    out.logprobs.push(rows);
}
out.generated = [];
for (const g of req.generate ?? []) {
    // greedy decoding (temperature 0) of g.max tokens after g.ids, end-of-generation tokens included
    await sequence.clearHistory();
    const tokens = [];
    for await (const token of sequence.evaluate(g.ids, {temperature: 0})) {
        tokens.push(token);
        if (tokens.length >= g.max) break;
    }
    out.generated.push(tokens);
}
for (const text of req.texts ?? []) out.tokens.push(Array.from(model.tokenize(text, true)));
const md = model.fileInfo.metadata;
out.metadata = {
    chat_template: md.tokenizer?.chat_template ?? null,
    eos: md.tokenizer?.ggml?.eos_token_id ?? null,
    bos: md.tokenizer?.ggml?.bos_token_id ?? null,
    eot: md.tokenizer?.ggml?.eot_token_id ?? null,
    pre: md.tokenizer?.ggml?.pre ?? null,
    add_bos: md.tokenizer?.ggml?.add_bos_token ?? null,
    architecture: md.general?.architecture ?? null
};
for (let t = 0; t < (out.vocab ?? 0); t++) if (model.isEogToken(t)) out.eog.push(t);
fs.writeFileSync(req.out, JSON.stringify(out));
await context.dispose();
await model.dispose();
await llama.dispose();
