import { test, expect } from "@playwright/test";
import { open, live, sidecars, create, remove, rolledOut } from "./helpers";

const FAILING_IMAGE = "registry.example.com/observability/otel-agent:0.104.0";

test("a person finds a pipeline by namespace and opens it", async ({ page }) => {
  await open(page, "/");
  await expect(page).toHaveURL(/\/pipelines$/);
  await expect(page).toHaveTitle("Pipelines — Sidecar Console");
  await expect(page.getByText("embedded demo cluster")).toBeVisible();
  const rows = page.getByRole("table", { name: "Pipelines" }).locator("tbody tr");
  await expect(rows).toHaveCount(5);

  await page.getByRole("combobox", { name: "Namespace" }).selectOption("observability");
  await expect(page).toHaveURL(/\/pipelines\?namespace=observability$/);
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: "traces" })).toContainText("Some sidecars failing");

  await page.getByRole("searchbox", { name: "Search" }).fill("node");
  await expect(page).toHaveURL(/namespace=observability&q=node/);
  await expect(rows).toHaveCount(1);
  await page.getByRole("link", { name: "node-metrics" }).click();
  await expect(page).toHaveURL(/\/pipelines\/observability\/node-metrics$/);
  await expect(page.getByRole("tab", { name: "Sidecars" })).toHaveAttribute("aria-selected", "true");

  // Back returns to the filtered list, not through every keystroke.
  await page.goBack();
  await expect(page).toHaveURL(/namespace=observability&q=node$/);
});

test("the sidecars table lists the demo sidecars with their state", async ({ page }) => {
  await open(page, "/pipelines/logging/app-logs");
  await expect(page).toHaveTitle("app-logs · logging — Sidecar Console");
  const table = page.getByRole("table", { name: "Sidecars of pipeline logging/app-logs" });
  for (const header of ["Name", "Image", "Ports", "Ready", "Status", "Age"]) {
    await expect(table.getByRole("columnheader", { name: header, exact: true })).toBeVisible();
  }
  const row = table.locator("tbody tr", { hasText: "envoy-proxy" });
  await expect(row).toContainText("envoyproxy/envoy:v1.31.0");
  await expect(row).toContainText("9901/TCP (admin)");
  await expect(row).toContainText("2/2");
  await expect(row).toContainText("Running");
  await expect(page.getByRole("button", { name: "Delete envoy-proxy" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Edit envoy-proxy" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Add sidecar" })).toBeVisible();

  await open(page, "/pipelines/observability/traces");
  const failing = page.locator("tbody tr", { hasText: "otel-agent" });
  await expect(failing).toContainText("Image cannot be pulled");
  await expect(failing).toContainText("0/1");
});

test("a pipeline without sidecars says how to add the first one", async ({ page }) => {
  await open(page, "/pipelines/logging/audit-logs");
  await expect(page.getByText("This pipeline has no sidecars yet.")).toBeVisible();
  await expect(page.getByText("sidecarctl create sidecar --pipeline logging/audit-logs")).toBeVisible();
});

test("a sidecar added or removed elsewhere shows on the open page within 2 s", async ({ page, request }) => {
  const pipeline = "logging/web-access";
  await remove(request, pipeline, "live-probe");
  await open(page, `/pipelines/${pipeline}`);
  await live(page);
  const row = page.locator("tbody tr", { hasText: "live-probe" });
  await expect(row).toHaveCount(0);

  const id = await create(request, pipeline, { name: "live-probe", image: "nginx:1.27" });
  await expect(row).toBeVisible({ timeout: 2_000 });
  // The rollout moves on its own, until every replica runs it.
  await expect(row).toContainText("Running", { timeout: 30_000 });

  expect((await request.delete(`/api/v1/sidecars/${id}`)).status()).toBe(200);
  await expect(row).toHaveCount(0, { timeout: 2_000 });
});

test("delete through the dialog removes the sidecar from every replica", async ({ page, request }) => {
  const pipeline = "logging/web-access";
  await remove(request, pipeline, "to-delete");
  const id = await create(request, pipeline, { name: "to-delete", image: "nginx:1.27" });
  await rolledOut(request, pipeline);
  await open(page, `/pipelines/${pipeline}`);
  await live(page);

  const trigger = page.getByRole("button", { name: "Delete to-delete" });
  await trigger.click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("to-delete");
  await expect(dialog).toContainText("logging/web-access");
  await expect(dialog).toContainText("its 1 replica");
  // The focus is inside; Escape closes and gives the focus back.
  await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(dialog.getByRole("button", { name: "Delete" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(trigger).toBeFocused();
  expect((await sidecars(request, pipeline)).map((s) => s.name)).toContain("to-delete");

  await trigger.click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(page.locator("tbody tr", { hasText: "to-delete" })).toHaveCount(0);
  await expect(page.getByRole("status").filter({ hasText: "Sidecar to-delete was deleted" })).toBeVisible();

  expect((await request.get(`/api/v1/sidecars/${id}`)).status()).toBe(404);
  // No replica runs it any more.
  await rolledOut(request, pipeline);
});

test("the failing demo sidecar is diagnosed on its Troubleshoot tab", async ({ page }) => {
  await open(page, "/pipelines/observability/traces");
  await page.locator("tbody tr", { hasText: "otel-agent" }).getByRole("link", { name: /Image cannot be pulled/ }).click();
  await expect(page).toHaveURL(/\/sidecars\/[0-9a-f-]+\?tab=troubleshoot$/);
  await expect(page.getByRole("tab", { name: "Troubleshoot" })).toHaveAttribute("aria-selected", "true");
  const diagnosis = page.locator(".diagnosis").first();
  await expect(diagnosis).toContainText("ImagePullBackOff");
  await expect(diagnosis).toContainText(`The cluster cannot pull the image ${FAILING_IMAGE}`);
  await expect(diagnosis).toContainText("Failed to pull image");
  await expect(diagnosis).toContainText("registry.example.com");
  await expect(page.getByRole("table", { name: "The sidecar in each replica" })).toContainText("ImagePullBackOff");
  await expect(page.getByRole("table", { name: "Events, newest first" })).toContainText("Failed to pull image");
});

test("logs follow shows new lines, from the replicas of a rollout too", async ({ page, request }) => {
  const pipeline = "logging/web-access";
  await remove(request, pipeline, "follow-me");
  const id = await create(request, pipeline, { name: "follow-me", image: "nginx:1.27" });
  await rolledOut(request, pipeline);
  await open(page, `/pipelines/${pipeline}/sidecars/${id}?tab=troubleshoot`);
  const log = page.getByRole("log", { name: "Logs of sidecar follow-me" });
  await expect(log).toContainText("Configuration complete; ready for start up", { timeout: 10_000 });
  // Each line names its replica (the stream may start over while the page settles: wait for it).
  await expect.poll(async () => log.locator(".replica").count(), { timeout: 10_000 }).toBeGreaterThan(0);
  const before = await log.locator(".replica").allTextContents();

  // A change of the spec rolls out new replicas: their first lines arrive while following.
  const current = await (await request.get(`/api/v1/sidecars/${id}`)).json();
  const put = await request.put(`/api/v1/sidecars/${id}`, {
    data: { ...current.spec, env: [{ name: "MODE", value: "followed" }] },
  });
  expect(put.status()).toBe(200);
  await expect
    .poll(async () => (await log.locator(".replica").allTextContents()).some((r) => !before.includes(r)), { timeout: 20_000 })
    .toBe(true);

  // The options are in the URL.
  await page.getByRole("checkbox", { name: "Follow" }).uncheck();
  await expect(page).toHaveURL(/follow=false/);
  await page.getByRole("combobox", { name: "Lines" }).selectOption("50");
  await expect(page).toHaveURL(/tail=50/);
  await remove(request, pipeline, "follow-me");
});

test("a link copied from a Troubleshoot tab opens the same view for someone else", async ({ page, browser, request, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const [otel] = await sidecars(request, "observability/traces");
  await open(page, `/pipelines/observability/traces/sidecars/${otel.id}`);
  await page.getByRole("tab", { name: "Troubleshoot" }).click();
  await expect(page).toHaveURL(/\?tab=troubleshoot$/);
  await page.getByRole("button", { name: "Copy link" }).click();
  await expect(page.getByRole("button", { name: "Link copied" })).toBeVisible();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toMatch(/\/pipelines\/observability\/traces\/sidecars\/[0-9a-f-]+\?tab=troubleshoot$/);

  const other = await browser.newContext();
  const fresh = await other.newPage();
  await fresh.goto(link);
  await expect(fresh.getByRole("tab", { name: "Troubleshoot" })).toHaveAttribute("aria-selected", "true");
  await expect(fresh.locator(".diagnosis").first()).toContainText(FAILING_IMAGE);
  await other.close();

  // Without JavaScript: the server's HTML has it all.
  const html = await (await request.get(link)).text();
  expect(html).toContain("otel-agent");
  expect(html).toContain("Image cannot be pulled");
  expect(html).toContain('aria-selected="true"');
});

test("tabs follow the WAI-ARIA pattern and keep Back for leaving the page", async ({ page }) => {
  await open(page, "/pipelines");
  await open(page, "/pipelines/logging/app-logs");
  const sidecarsTab = page.getByRole("tab", { name: "Sidecars" });
  await sidecarsTab.focus();
  await page.keyboard.press("ArrowRight");
  await expect(page.getByRole("tab", { name: "Status" })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByRole("tab", { name: "Status" })).toBeFocused();
  await expect(page).toHaveURL(/\?tab=status$/);
  await expect(page.getByRole("tabpanel")).toContainText("Rollout (Deployment app-logs)");
  await page.keyboard.press("ArrowRight");
  await expect(page).toHaveURL(/\?tab=logs$/);
  await expect(page.getByRole("log", { name: "Logs of pipeline app-logs" })).toContainText("Fluent Bit", { timeout: 10_000 });
  await page.keyboard.press("Home");
  await expect(page).toHaveURL(/\/pipelines\/logging\/app-logs$/);
  await page.goBack();
  await expect(page).toHaveURL(/\/pipelines$/);
});

test("an unknown pipeline or sidecar gets a 404 page that says which", async ({ page, request }) => {
  const resp = await page.goto("/pipelines/logging/no-such-pipeline");
  expect(resp?.status()).toBe(404);
  await expect(page.getByRole("alert")).toContainText('Pipeline "no-such-pipeline" not found in namespace "logging"');
  const sidecar = await request.get("/pipelines/logging/app-logs/sidecars/00000000-0000-4000-8000-000000000000");
  expect(sidecar.status()).toBe(404);
  expect(await sidecar.text()).toContain("00000000-0000-4000-8000-000000000000");
});

test("the pipelines list follows changes too", async ({ page, request }) => {
  const pipeline = "logging/audit-logs";
  await remove(request, pipeline, "listed");
  await open(page, "/pipelines?namespace=logging");
  const row = page.locator("tbody tr", { hasText: "audit-logs" });
  await expect(row).toContainText("No sidecars");
  const id = await create(request, pipeline, { name: "listed", image: "nginx:1.27" });
  await expect(row).not.toContainText("No sidecars", { timeout: 2_000 });
  await expect(row.locator('td[data-label="Sidecars"]')).toHaveText("1");
  expect((await request.delete(`/api/v1/sidecars/${id}`)).status()).toBe(200);
  await expect(row).toContainText("No sidecars", { timeout: 2_000 });
});
