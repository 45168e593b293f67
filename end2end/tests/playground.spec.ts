import { test, expect, Page } from "@playwright/test";

/** Waits until the page is hydrated: the buttons then respond. */
async function hydrated(page: Page) {
  await page.goto("/validate");
  await page.waitForFunction(() => (window as any).__sidecarHydrated === true, null, { timeout: 20_000 });
}

test("the playground checks specs in the browser, without asking the server", async ({ page }) => {
  const errorsInConsole: string[] = [];
  page.on("pageerror", (e) => errorsInConsole.push(e.message));
  await hydrated(page);

  // From here on, nothing may reach the server.
  const requests: string[] = [];
  page.on("request", (r) => requests.push(r.url()));

  await page.getByRole("button", { name: "All three probes" }).click();
  const input = page.getByLabel("Sidecar spec (JSON)");
  await expect(input).toHaveValue(/"name": "probe-sidecar"/);
  await expect(page.locator("[data-verdict]")).toHaveAttribute("data-verdict", "valid");
  await expect(page.locator("li.error")).toHaveCount(0);

  const spec = JSON.parse(await input.inputValue());
  spec.livenessProbe.httpGet.port = 70000;
  await input.fill(JSON.stringify(spec, null, 2));

  const error = page.locator('li.error[data-field="livenessProbe.httpGet.port"]');
  await expect(error).toBeVisible();
  await expect(error).toContainText("must be between 1 and 65535, got 70000");
  await expect(page.locator("[data-verdict]")).toHaveAttribute("data-verdict", "invalid");

  // Fix it again: the error goes away.
  spec.livenessProbe.httpGet.port = 8080;
  await input.fill(JSON.stringify(spec, null, 2));
  await expect(page.locator("[data-verdict]")).toHaveAttribute("data-verdict", "valid");

  expect(requests, "validation made no request").toEqual([]);
  expect(errorsInConsole).toEqual([]);
});

test("each documented example loads and is valid", async ({ page }) => {
  await hydrated(page);
  for (const [button, name] of [
    ["Basic", "my-sidecar"],
    ["Envoy with a ConfigMap volume", "envoy-sidecar"],
    ["All three probes", "probe-sidecar"],
  ]) {
    await page.getByRole("button", { name: button }).click();
    await expect(page.getByLabel("Sidecar spec (JSON)")).toHaveValue(new RegExp(`"name": "${name}"`));
    await expect(page.locator("[data-verdict]")).toHaveAttribute("data-verdict", "valid");
  }
});

test("syntax errors show line and column", async ({ page }) => {
  await hydrated(page);
  await page.getByLabel("Sidecar spec (JSON)").fill('{\n  "name": "a",\n  "image" "x"\n}');
  await expect(page.locator("[data-verdict]")).toHaveAttribute("data-verdict", "syntax");
  await expect(page.locator("[data-verdict]")).toContainText("Line 3, column 11");
});
