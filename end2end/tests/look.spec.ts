import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { open, sidecars } from "./helpers";

/** Every kind of page, at a URL of the demo data. */
async function pages(request: any): Promise<[string, string][]> {
  const [otel] = await sidecars(request, "observability/traces");
  const [envoy] = await sidecars(request, "logging/app-logs");
  return [
    ["pipelines", "/pipelines"],
    ["pipeline", "/pipelines/logging/app-logs"],
    ["pipeline-status", "/pipelines/logging/app-logs?tab=status"],
    ["pipeline-logs", "/pipelines/logging/app-logs?tab=logs"],
    ["sidecar", `/pipelines/logging/app-logs/sidecars/${envoy.id}`],
    ["troubleshoot", `/pipelines/observability/traces/sidecars/${otel.id}?tab=troubleshoot`],
    ["validate", "/validate"],
    ["not-found", "/pipelines/logging/no-such-pipeline"],
  ];
}

for (const scheme of ["light", "dark"] as const) {
  test(`no serious or critical accessibility violation, ${scheme}`, async ({ browser, request }) => {
    const context = await browser.newContext({ colorScheme: scheme });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      // The 404 page's own status is logged by the browser; nothing else may be.
      if (m.type() === "error" && !m.text().includes("404")) errors.push(m.text());
    });
    for (const [name, url] of await pages(request)) {
      await open(page, url);
      await page.waitForTimeout(300);
      await page.screenshot({ path: `test-results/screenshots/${name}-${scheme}.png`, fullPage: true });
      const result = await new AxeBuilder({ page }).analyze();
      const bad = result.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${name}: ${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
      expect(bad, bad.join("\n")).toEqual([]);
    }
    expect(errors, errors.join("\n")).toEqual([]);
    await context.close();
  });
}

test("every page is readable at 360 px without scrolling sideways", async ({ browser, request }) => {
  for (const scheme of ["light", "dark"] as const) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 360, height: 800 } });
    const page = await context.newPage();
    for (const [name, url] of await pages(request)) {
      await open(page, url);
      await page.waitForTimeout(300);
      await page.screenshot({ path: `test-results/screenshots/${name}-${scheme}-360.png`, fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${name} scrolls sideways by ${overflow}px`).toBeLessThanOrEqual(0);
    }
    await context.close();
  }
});

test("the theme toggle switches and remembers", async ({ page }) => {
  await open(page, "/pipelines");
  const toggle = page.getByRole("button", { name: "Dark theme" });
  const before = await toggle.getAttribute("aria-pressed");
  await toggle.click();
  const after = before === "true" ? "false" : "true";
  await expect(toggle).toHaveAttribute("aria-pressed", after);
  await page.reload();
  await page.waitForFunction(() => (window as any).__sidecarHydrated === true);
  await expect(page.locator("html")).toHaveAttribute("data-theme", after === "true" ? "dark" : "light");
});

test("a skip link leads past the navigation", async ({ page }) => {
  await open(page, "/pipelines");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator("main")).toBeFocused();
  // The next stop is the page's first control, not the navigation again.
  await page.keyboard.press("Tab");
  await expect(page.getByRole("combobox", { name: "Namespace" })).toBeFocused();
});
