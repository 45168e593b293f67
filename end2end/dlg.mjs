import { chromium } from "@playwright/test";
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const p = await (await b.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
p.on("console", (m) => { if (m.type()==="error") console.log(m.text().slice(0, 200)); });
for (const u of ["/pipelines/logging/app-logs", "/pipelines/observability/traces", "/pipelines"]) {
  await p.goto("http://127.0.0.1:3000" + u);
  const ok = await p.waitForFunction(() => window.__sidecarHydrated === true, null, {timeout: 4000}).then(() => true, () => false);
  console.log(u, ok);
}
await b.close();
