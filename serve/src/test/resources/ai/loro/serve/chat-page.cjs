// Opens the chat page of a running `loro serve` in headless Debian chromium (puppeteer-core), picks a model, sets
// temperature 0, sends a message and waits for the streamed answer; prints JSON, saves a screenshot.
// usage: node chat-page.cjs URL MODEL MESSAGE SCREENSHOT.png   (env LORO_NPM_MODULES, CHROMIUM = browser binary)
const path = require("path");
const puppeteer = require(path.join(process.env.LORO_NPM_MODULES, "puppeteer-core"));
const [url, model, message, screenshot] = process.argv.slice(2);

(async () => {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const consoleErrors = [];
  const partials = [];
  try {
    const page = await browser.newPage();
    page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    page.on("requestfailed", (r) => consoleErrors.push("request failed: " + r.url()));
    await page.goto(url, { waitUntil: "networkidle0" });
    await page.waitForFunction((m) => [...document.querySelectorAll("#model option")].some((o) => o.value === m), {}, model);
    const options = await page.$$eval("#model option", (os) => os.map((o) => o.value));
    await page.select("#model", model);
    await page.$eval("#temperature", (e) => { e.value = "0"; e.dispatchEvent(new Event("input")); });
    await page.$eval("#maxtokens", (e) => { e.value = "40"; });
    await page.type("#input", message);
    await page.click("#send");
    // watch the answer grow while it streams
    const poll = setInterval(async () => {
      try { partials.push(await page.$eval(".msg.assistant:last-child", (e) => e.textContent)); } catch (e) { /* not yet */ }
    }, 5);
    await page.waitForSelector(".msg.assistant[data-done='true'], .msg.error", { timeout: 30000 });
    clearInterval(poll);
    const answer = await page.$eval("#history .msg:last-child", (e) => ({ text: e.textContent, cls: e.className,
      finish: e.dataset.finish || null }));
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(JSON.stringify({ options, answer, consoleErrors, partials: [...new Set(partials)].length }));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error("browser check failed: " + (e.stack || e));
  process.exit(1);
});
