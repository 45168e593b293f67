// Figures of the browser part, printed: `node bench.mjs BASE SITE` (run by `cargo xtask bench`).
//  * the app's WebAssembly and script as served, raw and brotli;
//  * navigation to interactive (hydrated) of the pipeline page in headless chromium on loopback,
//    median and p90 of 20 cold loads (a new browser context each), beside the pipelines list.
import { chromium } from "@playwright/test";
import { readFileSync, readdirSync } from "node:fs";
import { brotliCompressSync, constants } from "node:zlib";

const [base = "http://127.0.0.1:3000", site = "../target/site"] = process.argv.slice(2);
const kb = (n) => (n / 1000).toFixed(1) + " kB";
for (const f of readdirSync(`${site}/pkg`)) {
  const data = readFileSync(`${site}/pkg/${f}`);
  const br = brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
  console.log(`${f}: ${kb(data.length)} raw, ${kb(br.length)} brotli`);
}

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
async function interactive(path) {
  const times = [];
  for (let i = 0; i < 20; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const start = Date.now();
    await page.goto(base + path);
    await page.waitForFunction(() => window.__sidecarHydrated === true, null, { timeout: 20000 });
    times.push(Date.now() - start);
    await ctx.close();
  }
  times.sort((a, b) => a - b);
  return `median ${times[10]} ms, p90 ${times[18]} ms`;
}
console.log(`navigation to interactive, /pipelines/logging/app-logs: ${await interactive("/pipelines/logging/app-logs")}`);
console.log(`navigation to interactive, /pipelines: ${await interactive("/pipelines")}`);
await browser.close();
