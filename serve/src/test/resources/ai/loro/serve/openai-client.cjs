// Drives a running `loro serve` with the official `openai` npm client; prints one JSON object of what it saw.
// usage: node openai-client.cjs BASE_URL ADAPTER   (env LORO_NPM_MODULES = the node_modules folder)
const path = require("path");
const OpenAI = require(path.join(process.env.LORO_NPM_MODULES, "openai"));
const [baseURL, adapter] = process.argv.slice(2);

(async () => {
  const client = new OpenAI({ baseURL, apiKey: "test-key", maxRetries: 0 });
  const out = {};
  const models = await client.models.list();
  out.models = models.data.map((m) => ({ id: m.id, parent: m.parent }));
  const messages = [{ role: "system", content: "You are terse." }, { role: "user", content: "Say hi" }];
  const whole = await client.chat.completions.create({ model: adapter, messages, temperature: 0, max_tokens: 24 });
  out.chat = { content: whole.choices[0].message.content, finish: whole.choices[0].finish_reason, usage: whole.usage };
  const stream = await client.chat.completions.create({
    model: adapter, messages, temperature: 0, max_tokens: 24, stream: true, stream_options: { include_usage: true },
  });
  let text = "";
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.choices.length && chunk.choices[0].delta.content) text += chunk.choices[0].delta.content;
    if (chunk.usage) out.streamUsage = chunk.usage;
  }
  out.stream = { content: text, chunks };
  const completion = await client.completions.create({ model: models.data[0].id, prompt: "Once", max_tokens: 8, temperature: 0 });
  out.completion = { text: completion.choices[0].text, finish: completion.choices[0].finish_reason };
  try {
    await client.chat.completions.create({ model: "no-such-model", messages });
    out.error = null;
  } catch (e) {
    out.error = { status: e.status, message: e.message, type: e.type, param: e.param };
  }
  try {
    await client.chat.completions.create({ model: adapter, messages, temperature: 9 });
    out.badField = null;
  } catch (e) {
    out.badField = { status: e.status, param: e.param };
  }
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error("openai client failed: " + (e.stack || e));
  process.exit(1);
});
