// Drives a running `loro serve` with N concurrent streaming clients; reports output tokens/s, time to first token
// and inter-token latency (p50 / p95). Every client asks for exactly MAX tokens (ignore_eos) at temperature 0.
// usage: node bench/serve-bench.mjs URL MODEL MAX_TOKENS CONCURRENCY...
const [url, model, maxTokens, ...levels] = process.argv.slice(2);
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN; };

async function client(i) {
  const t0 = performance.now();
  const res = await fetch(url + "/v1/completions", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ model, prompt: "Client " + i + " says:", max_tokens: Number(maxTokens), temperature: 0,
      ignore_eos: true, stream: true, stream_options: { include_usage: true } }) });
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = "", first = null, last = null, tokens = 0;
  const gaps = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const ev = buf.slice(6, cut); buf = buf.slice(cut + 2);
      if (ev === "[DONE]") continue;
      const c = JSON.parse(ev);
      if (c.usage) tokens = c.usage.completion_tokens;
      if (!c.choices.length) continue;
      const now = performance.now();
      if (first === null) first = now; else gaps.push(now - last);
      last = now;
    }
  }
  return { ttft: first - t0, gaps, tokens };
}

for (const n of levels.map(Number)) {
  const t0 = performance.now();
  const rs = await Promise.all(Array.from({ length: n }, (_, i) => client(i)));
  const secs = (performance.now() - t0) / 1000;
  const tokens = rs.reduce((s, r) => s + r.tokens, 0);
  const gaps = rs.flatMap((r) => r.gaps);
  console.log(JSON.stringify({ concurrency: n, output_tokens: tokens, seconds: +secs.toFixed(2),
    tokens_per_s: +(tokens / secs).toFixed(1), ttft_ms_p50: +pct(rs.map((r) => r.ttft), 0.5).toFixed(1),
    ttft_ms_p95: +pct(rs.map((r) => r.ttft), 0.95).toFixed(1), itl_ms_p50: +pct(gaps, 0.5).toFixed(1),
    itl_ms_p95: +pct(gaps, 0.95).toFixed(1) }));
}
