import { test, expect, Page } from "@playwright/test";
import { open, typeJson } from "./helpers";

/** Collects every Content-Security-Policy violation the page reports, and console errors. */
async function watchPolicy(page: Page): Promise<() => Promise<string[]>> {
  const messages: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) messages.push(m.text());
  });
  await page.addInitScript(() => {
    (window as any).__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as any).__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return async () => [...messages, ...((await page.evaluate(() => (window as any).__cspViolations)) as string[])];
}

test("the console, the editor included, works under its Content-Security-Policy with no violation", async ({ page }) => {
  const violations = await watchPolicy(page);
  const response = await page.goto("/pipelines");
  expect(response!.headers()["content-security-policy"]).toContain("'nonce-");
  await page.waitForFunction(() => (window as any).__sidecarHydrated === true, null, { timeout: 20_000 });
  await expect(page.getByRole("table")).toBeVisible();
  await open(page, "/pipelines/logging/app-logs");
  await expect(page.getByRole("heading", { name: "app-logs" })).toBeVisible();
  await open(page, "/pipelines/logging/app-logs/sidecars/new?tab=json");
  await typeJson(page, JSON.stringify({ name: "csp-check", image: "nginx:1.27" }, null, 2));
  await expect(page.getByRole("heading", { name: "No problems" })).toBeVisible();
  // Monaco's workers ran (its JSON language answered) under worker-src 'self'.
  await expect(page.locator(".monaco-host .view-line").first()).toBeVisible();
  expect(await violations()).toEqual([]);
});

test("a cross-site form posting to the console is refused", async ({ page, baseURL }) => {
  // What a browser sends for a form on another site.
  const r = await page.request.post(`${baseURL}/api/v1/pipelines/logging/app-logs/sidecars`, {
    headers: { Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site", "Content-Type": "application/json" },
    data: JSON.stringify({ name: "forged", image: "busybox:1.36" }),
  });
  expect(r.status()).toBe(403);
});
