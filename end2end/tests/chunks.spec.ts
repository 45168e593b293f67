import { test, expect, type APIRequestContext } from "@playwright/test";
import { open, sidecars } from "./helpers";

// The code a request fetched: a file of the build (`/pkg/BUILD/NAME.wasm`), or the chunks of a
// bundle (`/pkg/BUILD/bundle?chunks=NAME,NAME`), each as the path of its file.
const code = (url: string): string[] => {
  const u = new URL(url, "http://console");
  if (u.pathname.endsWith(".wasm")) return [u.pathname];
  if (!u.pathname.endsWith("/bundle")) return [];
  const dir = u.pathname.slice(0, -"bundle".length);
  return (u.searchParams.get("chunks") ?? "").split(",").map((name) => `${dir}${name}.wasm`);
};

// The console is upgraded while a page is open: the code of the build the page came with is gone,
// and the page must not run another build's code. It says so and offers to load the page anew.
test("a page whose code is gone after an upgrade says it stopped and reloads on request", async ({ page }) => {
  await open(page, "/pipelines/logging/app-logs");
  const build = /\/pkg\/[0-9a-f]+\/(.*\.wasm|bundle\?.*)$/;
  await page.route(build, (r) => r.fulfill({ status: 404, body: "" }));
  await page.getByRole("link", { name: "Add sidecar" }).click();
  const stopped = page.getByRole("alert").filter({ hasText: "This page stopped working" });
  await expect(stopped).toBeVisible();
  await expect(stopped).toHaveCount(1);

  await page.unroute(build);
  await stopped.getByRole("link", { name: "Reload the page" }).click();
  await page.waitForFunction(() => (window as any).__sidecarHydrated === true, null, { timeout: 20_000 });
  // The page anew, whole and interactive (where the click had got to before it stopped).
  await expect(page).toHaveURL(/\/pipelines\/logging\/app-logs(\/sidecars\/new)?$/);
  await expect(page.getByRole("alert").filter({ hasText: "This page stopped working" })).toHaveCount(0);
});

// Each page fetches its own code: the pipelines list does not fetch the editor's.
test("the pipelines list fetches neither the editor's code nor the validator's", async ({ page }) => {
  const wasm: string[] = [];
  page.on("requestfinished", (r) => wasm.push(...code(r.url())));
  await open(page, "/pipelines");
  await page.waitForTimeout(500);
  expect(wasm.some((p) => p.endsWith("/sidecar-console_bg.wasm"))).toBe(true);
  expect(wasm.some((p) => p.includes("split_pipelines_code_"))).toBe(true);
  for (const other of ["split_editor_", "json_view", "review_view", "playground_code", "sidecar_view"]) {
    expect(wasm.filter((p) => p.includes(other)), other).toEqual([]);
  }
});

// A tab's code comes with the tab: a pipeline's sidecars fetch neither its status's nor its
// logs', a sidecar's overview not its troubleshooting; each arrives when its tab is chosen.
test("a page fetches the code of the tab it shows, and another tab's in one download when that is chosen", async ({ page, request }) => {
  const fetched: string[] = [];
  const requests: string[] = [];
  page.on("requestfinished", (r) => {
    fetched.push(...code(r.url()));
    if (code(r.url()).length > 0) requests.push(r.url());
  });
  const wasm = (part: string) => fetched.filter((p) => p.includes(part));
  await open(page, "/pipelines/logging/app-logs");
  await page.waitForTimeout(500);
  expect(wasm("split_pipeline_code_")).toHaveLength(1);
  expect(wasm("status_view")).toEqual([]);
  expect(wasm("logs_view")).toEqual([]);
  const before = requests.length;
  await page.getByRole("tab", { name: "Status" }).click();
  await expect(page.getByRole("heading", { name: "Conditions" })).toBeVisible();
  // The browser may report the request finished a moment after its code has run.
  await expect.poll(() => wasm("status_view")).toHaveLength(1);
  expect(wasm("logs_view")).toEqual([]);
  // The tab's chunks that the page did not have yet, in one bundle.
  const tab = requests.slice(before);
  expect(tab, "one download for the tab").toHaveLength(1);
  expect(tab[0]).toContain("/bundle?chunks=");

  await open(page, await sidecar(request));
  await page.waitForTimeout(500);
  expect(wasm("troubleshoot_view")).toEqual([]);
  await page.getByRole("tab", { name: "Troubleshoot" }).click();
  await expect(page.getByRole("log")).toBeVisible();
  await expect.poll(() => wasm("troubleshoot_view")).toHaveLength(1);
});

// The server's HTML names the code its page needs (`<link rel="preload">`, from the split
// manifest), so the browser fetches it at once, beside the main module, rather than after the
// main module has run and asked for it; every time, on pages that wait for data too. The
// chunks of the page's parts, the tab it opens on included, come as one download.
const sidecar = async (r: APIRequestContext) => `/pipelines/logging/web-access/sidecars/${(await sidecars(r, "logging/web-access"))[0].id}`;
for (const [what, path] of [
  ["the pipelines list", async () => "/pipelines"],
  ["a pipeline", async () => "/pipelines/logging/app-logs"],
  ["a pipeline's status", async () => "/pipelines/logging/app-logs?tab=status"],
  ["a pipeline's logs", async () => "/pipelines/logging/app-logs?tab=logs"],
  ["the spec check", async () => "/validate"],
  ["a sidecar", sidecar],
  ["a sidecar's troubleshooting", async (r: APIRequestContext) => `${await sidecar(r)}?tab=troubleshoot`],
  ["a sidecar's form", async (r: APIRequestContext) => `${await sidecar(r)}?tab=form`],
  ["a sidecar's JSON", async (r: APIRequestContext) => `${await sidecar(r)}?tab=json`],
] as const) {
  test(`the HTML of ${what} preloads every piece of code the page fetches, in one download`, async ({ page, request }) => {
    const url = await path(request);
    const linked = async () =>
      [...(await (await request.get(url)).text()).matchAll(/<link[^>]*rel="preload"[^>]*>/g)]
        .map((m) => (/href="([^"]+)"/.exec(m[0])?.[1] ?? "").replaceAll("&amp;", "&"))
        .filter((h) => code(h).length > 0);
    const links = await linked();
    // The same links each time, none twice.
    expect(await linked()).toEqual(links);
    const preloaded = links.flatMap(code);
    expect(new Set(preloaded).size).toBe(preloaded.length);
    const requests: string[] = [];
    page.on("requestfinished", (r) => {
      if (code(r.url()).length > 0) requests.push(r.url());
    });
    await open(page, url);
    await page.waitForTimeout(500);
    const wasm = requests.flatMap(code);
    expect(wasm.some((p) => p.includes("/split_")), "the page's own code").toBe(true);
    expect(wasm.filter((p) => !preloaded.includes(p))).toEqual([]);
    // The main module, and the page's chunks in one bundle.
    const parts = requests.filter((r) => !r.endsWith("/sidecar-console_bg.wasm"));
    expect(parts, "one download for the page's parts").toHaveLength(1);
    expect(parts[0]).toContain("/bundle?chunks=");
  });
}
