// Figures of the browser part, printed: `node bench.mjs BASE SITE` (run by `cargo xtask bench`).
//  * the app's WebAssembly and script as served, raw and brotli;
//  * navigation to interactive (hydrated) of the pipeline page in headless chromium on loopback,
//    median and p90 of 20 cold loads (a new browser context each), beside the pipelines list;
//  * the Monaco bundle as served (raw and brotli), and which pages fetch it;
//  * keystroke to markers updated in the JSON view for a 200-line spec (validator, placing each
//    error on its text, Monaco's marker update), over 40 keystrokes.
import { chromium } from "@playwright/test";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { brotliCompressSync, constants } from "node:zlib";

const [base = "http://127.0.0.1:3000", site = "../target/site"] = process.argv.slice(2);
const kb = (n) => (n / 1000).toFixed(1) + " kB";
const brotli = (data) => brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
// The script and WebAssembly of this build live in pkg/<build>/ (named by pkg/build.txt): the
// main module, the chunks the lazy routes split off, and the loader that fetches them.
const build = readFileSync(`${site}/pkg/build.txt`, "utf8").trim();
const sizes = new Map();
let all = [0, 0, 0];
for (const f of readdirSync(`${site}/pkg/${build}`)) {
  // The build's own brotli copies (`NAME.br`) are what is sent, not more files.
  if (statSync(`${site}/pkg/${build}/${f}`).isDirectory() || f.endsWith(".json") || f.endsWith(".br")) continue;
  const data = readFileSync(`${site}/pkg/${build}/${f}`);
  sizes.set(f, [data.length, brotli(data)]);
  all = [all[0] + 1, all[1] + data.length, all[2] + sizes.get(f)[1]];
}
for (const f of ["sidecar-console_bg.wasm", "sidecar-console.js", "__wasm_split.______________________.js"]) {
  console.log(`${f}: ${kb(sizes.get(f)[0])} raw, ${kb(sizes.get(f)[1])} brotli`);
}
console.log(`app script and WebAssembly, every file of the build (${all[0]} files): ${kb(all[1])} raw, ${kb(all[2])} brotli`);
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
// What each page fetches of the build (main module, its route's chunks, the chunks of what it
// shows), counted from the browser's requests; sizes at brotli 11 as above. A page's chunks come
// as one bundle (`bundle?chunks=…`: each chunk's name, length and bytes), compressed as one.
const bundleSize = (names) => {
  const chunks = names.map((n) => [n, readFileSync(`${site}/pkg/${build}/${n}.wasm`)]);
  // As the server sends it: the largest first, each with its name and length.
  chunks.sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
  const body = chunks.flatMap(([n, data]) => {
    const head = Buffer.alloc(6 + n.length);
    head.writeUInt16LE(n.length, 0);
    head.write(n, 2, "latin1");
    head.writeUInt32LE(data.length, 2 + n.length);
    return [head, data];
  });
  const data = Buffer.concat(body);
  const br = brotliCompressSync(data, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 24, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  });
  return [data.length, br.length, names.length];
};
async function downloads(path, action) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const files = new Set();
  page.on("requestfinished", (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith(`/pkg/${build}/`)) files.add(u.pathname.slice(`/pkg/${build}/`.length) + u.search);
  });
  await page.goto(base + path);
  await page.waitForFunction(() => window.__sidecarHydrated === true, null, { timeout: 20000 });
  if (action) await action(page);
  await page.waitForTimeout(1000);
  await ctx.close();
  let raw = 0, br = 0, wasm = 0, requests = 0;
  for (const f of files) {
    if (f.startsWith("bundle?")) {
      const [r, b, n] = bundleSize(new URLSearchParams(f.slice("bundle?".length)).get("chunks").split(","));
      raw += r;
      br += b;
      wasm += n;
      requests++;
      continue;
    }
    const [r, b] = sizes.get(f) ?? [0, 0];
    raw += r;
    br += b;
    if (f.endsWith(".wasm")) {
      wasm++;
      requests++;
    }
  }
  return `${kb(raw)} raw, ${kb(br)} brotli (${wasm} WebAssembly files in ${requests} downloads)`;
}
const listed = await (await fetch(`${base}/api/v1/pipelines/logging/app-logs/sidecars`)).json();
const sidecar = `/pipelines/logging/app-logs/sidecars/${(listed.items ?? listed)[0].id}`;
for (const [what, path, action] of [
  ["/pipelines", "/pipelines"],
  ["a pipeline, Sidecars tab", "/pipelines/logging/app-logs"],
  ["a pipeline, Logs tab", "/pipelines/logging/app-logs?tab=logs"],
  ["a sidecar, Overview", sidecar],
  ["a sidecar, Troubleshoot", `${sidecar}?tab=troubleshoot`],
  ["the editor, Form tab", "/pipelines/logging/app-logs/sidecars/new?tab=form"],
  ["the editor, JSON tab", "/pipelines/logging/app-logs/sidecars/new?tab=json"],
  ["the editor, Form tab then Review", `${sidecar}?tab=form`, async (page) => {
    await page.getByLabel("Image", { exact: true }).fill("nginx:1.28");
    await page.getByRole("button", { name: "Review changes" }).click();
    await page.getByRole("button", { name: "Apply" }).last().waitFor({ timeout: 20000 });
  }],
  ["Check a spec", "/validate"],
]) {
  console.log(`fetched by ${what}: ${await downloads(path, action)}`);
}

const monacoDir = readdirSync(`${site}/monaco`)[0];
let monacoTotal = [0, 0];
for (const f of readdirSync(`${site}/monaco/${monacoDir}`)) {
  if (f.endsWith(".br")) continue;
  const data = readFileSync(`${site}/monaco/${monacoDir}/${f}`);
  const br = brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
  monacoTotal = [monacoTotal[0] + data.length, monacoTotal[1] + br.length];
  console.log(`monaco/${monacoDir}/${f}: ${kb(data.length)} raw, ${kb(br.length)} brotli`);
}
console.log(`monaco bundle in all: ${kb(monacoTotal[0])} raw, ${kb(monacoTotal[1])} brotli`);

async function monacoRequests(path) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  let n = 0;
  page.on("request", (r) => { if (new URL(r.url()).pathname.startsWith("/monaco/")) n++; });
  await page.goto(base + path);
  await page.waitForFunction(() => window.__sidecarHydrated === true, null, { timeout: 20000 });
  if (path.includes("tab=json")) await page.locator(".monaco-host .monaco-editor").waitFor({ timeout: 20000 });
  await page.waitForTimeout(500);
  await ctx.close();
  return n;
}
for (const path of ["/pipelines", "/pipelines/logging/app-logs", "/pipelines/logging/app-logs/sidecars/new?tab=form", "/pipelines/logging/app-logs/sidecars/new?tab=json"]) {
  console.log(`requests under /monaco/ on ${path}: ${await monacoRequests(path)}`);
}

// A 200-line spec with a few errors, typed into.
{
  const ports = Array.from({ length: 26 }, (_, i) => ({ name: `p${i}`, containerPort: i === 7 ? 70000 : 9000 + i, protocol: "TCP" }));
  const env = Array.from({ length: 14 }, (_, i) => ({ name: `VAR_${i}`, value: `value ${i}` }));
  const spec = { name: "bench", image: "nginx:1.27", env, ports, livenessProbe: { httpGet: { path: "/", port: "p1" } } };
  const text = JSON.stringify(spec, null, 2);
  const ctx = await browser.newContext();
  await ctx.grantPermissions(["clipboard-read", "clipboard-write"]);
  const page = await ctx.newPage();
  await page.goto(base + "/pipelines/logging/app-logs/sidecars/new?tab=json");
  await page.waitForFunction(() => window.__sidecarHydrated === true, null, { timeout: 20000 });
  const editor = page.locator(".monaco-host .monaco-editor");
  await editor.waitFor({ timeout: 20000 });
  await editor.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await page.keyboard.press("Control+V");
  await page.waitForFunction(() => window.__sidecarMarkers >= 1);
  const lines = await page.evaluate(() => document.querySelectorAll(".monaco-host .view-line").length);
  // Type inside the image's value: every keystroke is a new check of the whole spec.
  await page.keyboard.press("Control+Home");
  for (let i = 0; i < 2; i++) await page.keyboard.press("ArrowDown");
  await page.keyboard.press("End");
  for (let i = 0; i < 2; i++) await page.keyboard.press("ArrowLeft");
  const times = [];
  for (let i = 0; i < 40; i++) {
    await page.evaluate(() => (window.__sidecarMarkersMs = -1));
    await page.keyboard.type(i % 2 ? "b" : "a");
    await page.waitForFunction(() => window.__sidecarMarkersMs >= 0);
    times.push(await page.evaluate(() => window.__sidecarMarkersMs));
  }
  times.sort((a, b) => a - b);
  console.log(`keystroke to markers, ${text.split("\n").length}-line spec (${lines} lines rendered), ${await page.evaluate(() => window.__sidecarMarkers)} markers: median ${times[20].toFixed(2)} ms, p90 ${times[36].toFixed(2)} ms, max ${times[39].toFixed(2)} ms (goal 16 ms)`);
  await ctx.close();
}
await browser.close();
