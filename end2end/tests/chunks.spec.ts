import { test, expect } from "@playwright/test";
import { open } from "./helpers";

// The console is upgraded while a page is open: the code of the build the page came with is gone,
// and the page must not run another build's code. It says so and offers to load the page anew.
test("a page whose code is gone after an upgrade says it stopped and reloads on request", async ({ page }) => {
  await open(page, "/pipelines/logging/app-logs");
  const code = /\/pkg\/[0-9a-f]+\/.*\.wasm$/;
  await page.route(code, (r) => r.fulfill({ status: 404, body: "" }));
  await page.getByRole("link", { name: "Add sidecar" }).click();
  const stopped = page.getByRole("alert").filter({ hasText: "This page stopped working" });
  await expect(stopped).toBeVisible();
  await expect(stopped).toHaveCount(1);

  await page.unroute(code);
  await stopped.getByRole("link", { name: "Reload the page" }).click();
  await page.waitForFunction(() => (window as any).__sidecarHydrated === true, null, { timeout: 20_000 });
  // The page anew, whole and interactive (where the click had got to before it stopped).
  await expect(page).toHaveURL(/\/pipelines\/logging\/app-logs(\/sidecars\/new)?$/);
  await expect(page.getByRole("alert").filter({ hasText: "This page stopped working" })).toHaveCount(0);
});

// Each page fetches its own code: the pipelines list does not fetch the editor's.
test("the pipelines list fetches neither the editor's code nor the validator's", async ({ page }) => {
  const fetched: string[] = [];
  page.on("requestfinished", (r) => fetched.push(new URL(r.url()).pathname));
  await open(page, "/pipelines");
  await page.waitForTimeout(500);
  const wasm = fetched.filter((p) => p.endsWith(".wasm"));
  expect(wasm.some((p) => p.endsWith("/sidecar-console_bg.wasm"))).toBe(true);
  expect(wasm.some((p) => p.includes("split_pipelines_code_"))).toBe(true);
  for (const other of ["split_editor_", "json_view", "review_view", "playground_code", "sidecar_view"]) {
    expect(wasm.filter((p) => p.includes(other)), other).toEqual([]);
  }
});

// The server's HTML names the code its page needs (`<link rel="preload">`, from the split
// manifest), so the browser fetches it at once, beside the main module, rather than after the
// main module has run and asked for it. The server and the browser must name the page's code
// alike for this. (On pages that wait for data Leptos adds the links only some of the time, so
// the page checked is the one that waits for none.)
test("the HTML of /validate preloads every piece of code the page fetches", async ({ page, request }) => {
  const html = await (await request.get("/validate")).text();
  const preloaded = [...html.matchAll(/<link[^>]*rel="preload"[^>]*>/g)]
    .map((m) => /href="([^"]+)"/.exec(m[0])?.[1] ?? "")
    .filter((h) => h.endsWith(".wasm"));
  const fetched: string[] = [];
  page.on("requestfinished", (r) => fetched.push(new URL(r.url()).pathname));
  await open(page, "/validate");
  await page.waitForTimeout(500);
  const wasm = fetched.filter((p) => p.endsWith(".wasm"));
  expect(wasm.some((p) => p.includes("split_playground_code_")), "the page's own code").toBe(true);
  expect(wasm.filter((p) => !preloaded.includes(p))).toEqual([]);
});
