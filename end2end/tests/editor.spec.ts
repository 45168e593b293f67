import { test, expect, Page, Request } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { open, create, remove, rolledOut, typeJson } from "./helpers";

// Every request of every test, to check that nothing goes to another origin and that Monaco is
// fetched only where a JSON view opens.
function recordRequests(page: Page): Request[] {
  const seen: Request[] = [];
  page.on("request", (r) => seen.push(r));
  return seen;
}

function foreign(seen: Request[], base: string): string[] {
  const origin = new URL(base).origin;
  return seen.map((r) => r.url()).filter((u) => !u.startsWith(origin) && !u.startsWith("data:") && !u.startsWith("blob:"));
}

const monacoRequests = (seen: Request[]) => seen.filter((r) => new URL(r.url()).pathname.startsWith("/monaco/"));

/** The sidecar's spec and status, through the REST API. */
async function sidecar(page: Page, id: string) {
  const r = await page.request.get(`/api/v1/sidecars/${id}`);
  expect(r.status()).toBe(200);
  return r.json();
}

test.beforeEach(async ({ page }) => {
  // Leaving a page with a draft asks; the tests say yes.
  page.on("dialog", (d) => d.accept());
});

test("a sidecar made with the form alone, its ConfigMap chosen in the picker, runs in every replica", async ({ page, baseURL }) => {
  const seen = recordRequests(page);
  await remove(page.request, "logging/audit-logs", "edge-proxy");
  await open(page, "/pipelines/logging/audit-logs");
  await page.getByRole("link", { name: "Add sidecar" }).first().click();
  await expect(page).toHaveURL(/\/pipelines\/logging\/audit-logs\/sidecars\/new/);
  await page.waitForFunction(() => (window as any).__sidecarHydrated === true);
  await expect(page.getByRole("tab", { name: "Form" })).toHaveAttribute("aria-selected", "true");

  await page.getByLabel("Name", { exact: true }).fill("edge-proxy");
  await page.getByLabel("Image", { exact: true }).fill("envoyproxy/envoy:v1.31.0");
  await page.getByRole("button", { name: "Add port" }).click();
  const port = page.getByRole("group", { name: "Port 1" });
  await port.getByLabel("Container port").fill("99999");
  // The validator's error shows next to the field as it is typed.
  await expect(port.getByLabel("Container port")).toHaveAttribute("aria-invalid", "true");
  await expect(port.locator(".field-error").first()).toContainText("65535");
  await expect(page.getByRole("button", { name: "Review changes" })).toBeDisabled();
  await port.getByLabel("Container port").fill("10000");
  await expect(port.getByLabel("Container port")).toHaveAttribute("aria-invalid", "false");
  await port.getByLabel("Port name").fill("proxy");

  await page.getByRole("button", { name: "Add volume" }).click();
  const volume = page.getByRole("group", { name: "Volume 1" });
  const picker = volume.getByLabel("ConfigMap");
  await expect(picker.locator("option", { hasText: "envoy-config (envoy.yaml)" })).toHaveCount(1);
  await picker.selectOption("envoy-config");
  await volume.getByLabel("Mount path").fill("/etc/envoy");
  await expect(volume.getByLabel("Volume name")).toHaveValue("envoy-config");

  await page.getByRole("button", { name: "Review changes" }).click();
  const review = page.getByRole("region", { name: "Review changes" });
  await expect(review.getByText("The server accepts this change")).toBeVisible();
  await expect(review.locator("ins").filter({ hasText: "envoy-config" }).first()).toBeVisible();
  await review.getByRole("button", { name: "Apply" }).click();

  await expect(page).toHaveURL(/\/sidecars\/[^/?]+\?applied=1/, { timeout: 10_000 });
  const id = new URL(page.url()).pathname.split("/").pop()!;
  await expect(page.getByRole("status").filter({ hasText: "Applied" })).toBeVisible();
  const s = await sidecar(page, id);
  expect(s.spec.volumes).toEqual([{ name: "envoy-config", configMap: { name: "envoy-config", defaultMode: 420 } }]);
  expect(s.spec.volumeMounts).toEqual([{ name: "envoy-config", mountPath: "/etc/envoy", readOnly: true }]);
  await rolledOut(page.request, "logging/audit-logs");
  await expect
    .poll(async () => {
      const st = await (await page.request.get(`/api/v1/sidecars/${id}/status`)).json();
      return st.replicas.length === 2 && st.replicas.every((r: any) => r.ready);
    }, { timeout: 30_000 })
    .toBe(true);
  await expect(page.locator(".rollout")).toHaveAttribute("data-done", "true", { timeout: 15_000 });
  expect(monacoRequests(seen)).toEqual([]);
  expect(foreign(seen, baseURL!)).toEqual([]);
  await remove(page.request, "logging/audit-logs", "edge-proxy");
});

test("in the JSON tab a probe port of 70000 gets a marker on its value, a problem, and no Apply", async ({ page, baseURL }) => {
  const seen = recordRequests(page);
  await open(page, "/pipelines/logging/app-logs/sidecars/new?tab=json");
  const spec = JSON.stringify(
    {
      name: "probe-sidecar",
      image: "nginx:latest",
      ports: [{ name: "http", containerPort: 80 }],
      livenessProbe: { httpGet: { path: "/", port: 70000 }, initialDelaySeconds: 10 },
    },
    null,
    2,
  );
  await typeJson(page, spec);
  const problem = page.getByRole("button", { name: /^livenessProbe\.httpGet\.port: / });
  await expect(problem).toBeVisible();
  await expect(page.getByRole("button", { name: "Review changes" })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Apply" })).toBeDisabled();
  // The marker (Monaco's squiggle) is on the 70000: same line, starting where the value does.
  await expect
    .poll(() =>
      page.evaluate(() => {
        const line = [...document.querySelectorAll(".monaco-host .view-line")].find((l) => l.textContent!.includes("70000"));
        const squiggles = document.querySelectorAll(".monaco-host .squiggly-error");
        if (!line || squiggles.length !== 1) return `line ${!!line}, ${squiggles.length} squiggles`;
        const value = [...line.querySelectorAll("span span")].find((s) => s.textContent!.includes("70000"))!;
        const [l, v, q] = [line.getBoundingClientRect(), value.getBoundingClientRect(), squiggles[0].getBoundingClientRect()];
        const sameLine = Math.abs(l.top - q.top) < 4;
        const onValue = Math.abs(v.left - q.left) < 3 && Math.abs(v.width - q.width) < 3;
        return sameLine && onValue ? "on the value" : `line ${l.top}/${q.top}, value ${v.left}+${v.width}, squiggle ${q.left}+${q.width}`;
      }),
    )
    .toBe("on the value");
  // Monaco's own schema validation adds nothing: one marker, ours.
  expect(await page.evaluate(() => (window as any).__sidecarMarkers)).toBe(1);
  // The problem's button puts the cursor there; the fix clears it.
  await problem.click();
  await page.keyboard.press("Shift+End");
  await page.keyboard.insertText("8080");
  await expect(page.getByRole("heading", { name: "No problems" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Review changes" })).toBeEnabled();
  expect(monacoRequests(seen).length).toBeGreaterThan(0);
  expect(foreign(seen, baseURL!)).toEqual([]);
});

test("JSON that does not parse keeps you on the JSON tab with its error", async ({ page }) => {
  await open(page, "/pipelines/logging/app-logs/sidecars/new?tab=json");
  await typeJson(page, '{"name": "x", "image": ');
  await page.getByRole("tab", { name: "Form" }).click();
  await expect(page.getByRole("tab", { name: "JSON" })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByRole("alert").filter({ hasText: "The form needs JSON that parses" })).toBeVisible();
  await expect(page.locator(".monaco-host .view-line").first()).toContainText('{"name": "x", "image":');
});

test("a field the form does not show survives Form, JSON, Form and apply", async ({ page }) => {
  await remove(page.request, "logging/audit-logs", "pod-info");
  const id = await create(page.request, "logging/audit-logs", {
    name: "pod-info",
    image: "busybox:1.36",
    command: ["sh", "-c", "sleep infinity"],
    env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
  });
  await open(page, `/pipelines/logging/audit-logs/sidecars/${id}?tab=form`);
  await expect(page.getByRole("note")).toContainText("env[0].valueFrom.fieldRef");
  await page.getByRole("tab", { name: "JSON" }).click();
  await expect(page.locator(".monaco-host .monaco-editor")).toBeVisible({ timeout: 20_000 });
  await page.getByRole("tab", { name: "Form" }).click();
  await page.getByLabel("Image", { exact: true }).fill("busybox:1.37");
  await page.getByRole("button", { name: "Review changes" }).click();
  const review = page.getByRole("region", { name: "Review changes" });
  await expect(review.getByText("The server accepts this change")).toBeVisible();
  await review.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/applied=1/);
  const s = await sidecar(page, id);
  expect(s.image).toBe("busybox:1.37");
  expect(s.spec.env).toEqual([{ name: "POD_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } }]);
  await remove(page.request, "logging/audit-logs", "pod-info");
});

test("edit, review the diff, apply: the new image reaches every replica", async ({ page }) => {
  await remove(page.request, "logging/audit-logs", "shell");
  const id = await create(page.request, "logging/audit-logs", { name: "shell", image: "busybox:1.36", command: ["sleep", "infinity"] });
  await rolledOut(page.request, "logging/audit-logs");
  await open(page, "/pipelines/logging/audit-logs");
  await page.getByRole("link", { name: "Edit shell" }).click();
  await expect(page).toHaveURL(new RegExp(`/sidecars/${id}\\?tab=form`));
  await page.waitForFunction(() => (window as any).__sidecarHydrated === true);
  await page.getByLabel("Image", { exact: true }).fill("busybox:1.37");
  await page.getByRole("button", { name: "Review changes" }).click();
  const review = page.getByRole("region", { name: "Review changes" });
  await expect(review.locator("del")).toContainText('"image": "busybox:1.36"');
  await expect(review.locator("ins")).toContainText('"image": "busybox:1.37"');
  await expect(review.getByText("1 line added, 1 removed")).toBeVisible();
  await expect(review.getByText("The server accepts this change")).toBeVisible();
  await review.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/applied=1/);
  await expect
    .poll(async () => {
      const st = await (await page.request.get(`/api/v1/sidecars/${id}/status`)).json();
      return st.replicas.length === 2 && st.replicas.every((r: any) => r.image === "busybox:1.37" && r.ready);
    }, { timeout: 30_000 })
    .toBe(true);
  await expect(page.getByRole("status").filter({ hasText: "every replica (2 of 2)" })).toBeVisible({ timeout: 15_000 });
  await remove(page.request, "logging/audit-logs", "shell");
});

test("two people edit one sidecar: the second gets the conflict view and applies on top", async ({ browser, baseURL }) => {
  const ctxA = await browser.newContext({ baseURL });
  const ctxB = await browser.newContext({ baseURL });
  const [a, b] = [await ctxA.newPage(), await ctxB.newPage()];
  for (const p of [a, b]) p.on("dialog", (d) => d.accept());
  await remove(a.request, "logging/audit-logs", "shared");
  const id = await create(a.request, "logging/audit-logs", { name: "shared", image: "busybox:1.36", command: ["sleep", "infinity"] });
  await open(a, `/pipelines/logging/audit-logs/sidecars/${id}?tab=form`);
  await open(b, `/pipelines/logging/audit-logs/sidecars/${id}?tab=form`);
  await expect(b.locator(".live")).toHaveText("live", { timeout: 10_000 });

  await a.getByLabel("Image", { exact: true }).fill("busybox:1.37");
  await a.getByRole("button", { name: "Review changes" }).click();
  await a.getByRole("region", { name: "Review changes" }).getByRole("button", { name: "Apply" }).click();
  await expect(a).toHaveURL(/applied=1/);

  // B's open editor says so as soon as the watch sees it.
  const meanwhile = b.getByRole("alert").filter({ hasText: "was changed by someone else" });
  await expect(meanwhile).toBeVisible({ timeout: 10_000 });
  // It names what they changed, and only that.
  await expect(meanwhile).toContainText("since you started editing (image).");
  await b.getByLabel("Arguments").fill("--verbose");
  await b.getByRole("button", { name: "Review changes" }).click();
  const conflict = b.getByRole("alert").filter({ hasText: "Someone else changed this sidecar" });
  await expect(conflict).toBeVisible();
  await expect(conflict).toContainText("They changed: image");
  await expect(conflict.locator("del")).toContainText("busybox:1.37");
  await conflict.getByRole("button", { name: "Apply mine on top" }).click();
  const review = b.getByRole("region", { name: "Review changes" });
  await expect(review.getByText("The server accepts this change")).toBeVisible();
  await review.getByRole("button", { name: "Apply" }).click();
  await expect(b).toHaveURL(/applied=1/);
  const s = await sidecar(b, id);
  expect(s.spec.args).toEqual(["--verbose"]);
  await remove(a.request, "logging/audit-logs", "shared");
  await ctxA.close();
  await ctxB.close();
});

test("a reload in the middle of an edit keeps the draft; discarding clears it", async ({ page }) => {
  await open(page, "/pipelines/logging/web-access/sidecars/new");
  await page.getByLabel("Name", { exact: true }).fill("kept-draft");
  await page.getByLabel("Image", { exact: true }).fill("nginx:1.27");
  await page.reload();
  await page.waitForFunction(() => (window as any).__sidecarHydrated === true);
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("kept-draft");
  await expect(page.getByRole("status").filter({ hasText: "were restored" })).toBeVisible();
  await page.getByRole("button", { name: "Discard changes" }).first().click();
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("");
  await page.reload();
  await page.waitForFunction(() => (window as any).__sidecarHydrated === true);
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("");
});

test("presets fill the draft; each is valid", async ({ page }) => {
  await open(page, "/pipelines/observability/traces/sidecars/new");
  for (const name of ["Envoy proxy", "nginx", "OpenTelemetry Collector", "Prometheus statsd exporter", "busybox debug shell"]) {
    await page.getByLabel("Start from preset").selectOption({ label: name });
    await expect(page.getByRole("heading", { name: "No problems" })).toBeVisible();
  }
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("debug-shell");
});

test("no request to Monaco's files on the pipelines page, the form or its review", async ({ page }) => {
  const seen = recordRequests(page);
  await open(page, "/pipelines");
  await open(page, "/pipelines/logging/app-logs/sidecars/new?tab=form&preset=nginx");
  await page.getByRole("button", { name: "Review changes" }).click();
  await expect(page.getByRole("region", { name: "Review changes" }).getByText("The server accepts this change")).toBeVisible();
  // Monaco is not loaded here, so the review offers no side-by-side view.
  await expect(page.getByRole("button", { name: "Side by side" })).toHaveCount(0);
  await page.waitForTimeout(500);
  expect(monacoRequests(seen)).toEqual([]);
});

test("Monaco's files are served from our origin with long-lived cache headers", async ({ request }) => {
  const page = await request.get("/pipelines/logging/app-logs/sidecars/new?tab=json");
  expect(page.status()).toBe(200);
  const r = await request.get("/monaco/0.57.0/entry.js");
  expect(r.status()).toBe(200);
  expect(r.headers()["cache-control"]).toContain("immutable");
  const missing = await request.get("/monaco/0.57.0/nope.js");
  expect(missing.status()).toBe(404);
  expect(missing.headers()["cache-control"] ?? "").not.toContain("immutable");
});

for (const tab of ["form", "json"]) {
  test(`axe finds no serious or critical violation on the editor's ${tab} tab`, async ({ page }) => {
    await open(page, `/pipelines/logging/app-logs/sidecars/new?tab=${tab}&preset=envoy`);
    if (tab === "json") await expect(page.locator(".monaco-host .monaco-editor")).toBeVisible({ timeout: 20_000 });
    else await page.getByRole("group", { name: "Port 1" }).waitFor();
    const results = await new AxeBuilder({ page }).analyze();
    const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
  });
}

test("the server's dry run lists the errors only it can see: a name taken in the pipeline, a ConfigMap missing in the namespace", async ({ page }) => {
  await open(page, "/pipelines/logging/app-logs/sidecars/new?preset=otel-collector");
  await page.getByLabel("Name", { exact: true }).fill("envoy-proxy");
  await page.getByRole("button", { name: "Review changes" }).click();
  const review = page.getByRole("region", { name: "Review changes" });
  const refused = review.getByRole("alert");
  await expect(refused).toContainText("The server refused the change");
  await expect(refused).toContainText('pipeline logging/app-logs already has a sidecar named "envoy-proxy"');
  await expect(refused).toContainText('configmap "otel-config" not found in namespace "logging"');
  await expect(review.getByRole("button", { name: "Apply" })).toBeDisabled();
});

test("the JSON view completes field names and explains them from the sidecar schema", async ({ page }) => {
  await open(page, "/pipelines/logging/app-logs/sidecars/new?tab=json&preset=nginx");
  const editor = page.locator(".monaco-host .monaco-editor");
  await expect(editor).toBeVisible({ timeout: 20_000 });
  // Hovering a field shows its documentation, once the schema with the docs has arrived (it is
  // fetched when the editor first needs it; a hover before that shows none, as a person moving
  // the mouse again would see).
  await expect(async () => {
    await page.mouse.move(0, 0);
    await page.locator(".monaco-host .view-line span", { hasText: '"image"' }).first().hover();
    await expect(page.locator(".monaco-hover").filter({ hasText: "Container image reference" })).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 15_000 });
  // A new line in the object, Ctrl+Space: the fields not set yet.
  await editor.click();
  await page.keyboard.press("ControlOrMeta+End");
  await page.keyboard.press("ArrowUp");
  await page.keyboard.press("End");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Control+Space");
  const suggestions = page.locator(".suggest-widget");
  await expect(suggestions).toBeVisible({ timeout: 10_000 });
  await expect(suggestions).toContainText("livenessProbe");
  await expect(suggestions).toContainText("volumeMounts");
  await page.keyboard.press("Escape");
  // A value of the wrong type, which the schema refuses too: one marker, the validator's (Monaco's own
  // diagnostics are off, or there would be two).
  await page.keyboard.insertText(', "args": 5');
  await expect(page.getByRole("button", { name: /^args: / })).toBeVisible();
  await expect(page.locator(".monaco-host .squiggly-error")).toHaveCount(1);
  expect(await page.evaluate(() => (window as any).__sidecarMarkers)).toBe(1);
});

test("leaving with unsaved changes asks first, and staying keeps the draft", async ({ page }) => {
  await open(page, "/pipelines/logging/app-logs/sidecars/new");
  await page.getByLabel("Name", { exact: true }).fill("not-yet-saved");
  page.removeAllListeners("dialog");
  let asked = "";
  page.once("dialog", (d) => {
    asked = d.message();
    d.dismiss();
  });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Pipelines" }).click();
  await expect.poll(() => asked).toContain("Leave the editor?");
  await expect(page).toHaveURL(/sidecars\/new/);
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("not-yet-saved");
  page.on("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Discard changes" }).last().click();
});

test("on the JSON tab the review also shows the change side by side in Monaco's diff editor", async ({ page }) => {
  await open(page, "/pipelines/observability/traces/sidecars/new?tab=json&preset=nginx");
  await expect(page.locator(".monaco-host .monaco-editor")).toBeVisible({ timeout: 20_000 });
  await page.getByRole("button", { name: "Review changes" }).click();
  const review = page.getByRole("region", { name: "Review changes" });
  await review.getByRole("button", { name: "Side by side" }).click();
  await expect(review.getByRole("button", { name: "Side by side" })).toHaveAttribute("aria-pressed", "true");
  const side = review.getByRole("region", { name: "Stored spec and your draft, side by side" });
  await expect(side.locator(".monaco-diff-editor")).toBeVisible({ timeout: 10_000 });
  await expect(side.locator(".modified .view-line").filter({ hasText: '"nginx:1.27"' })).toHaveCount(1);
});

test("a pre-stop sleep for draining is one field of the form, checked as typed, and shown on the sidecar page", async ({ page }) => {
  await remove(page.request, "logging/audit-logs", "drainer");
  await open(page, "/pipelines/logging/audit-logs/sidecars/new");
  await page.waitForFunction(() => (window as any).__sidecarHydrated === true);
  await page.getByLabel("Name", { exact: true }).fill("drainer");
  await page.getByLabel("Image", { exact: true }).fill("nginx:1.27");
  const sleep = page.getByLabel("Pre-stop sleep (seconds)");
  await sleep.fill("0");
  await expect(sleep).toHaveAttribute("aria-invalid", "true");
  await expect(
    page.locator(".field-error").filter({ hasText: "must be greater than 0 and less than terminationGracePeriodSeconds (30)" }),
  ).toBeVisible();
  await expect(page.getByRole("button", { name: "Review changes" })).toBeDisabled();
  await sleep.fill("5");
  await expect(sleep).toHaveAttribute("aria-invalid", "false");
  await page.getByRole("button", { name: "Review changes" }).click();
  const review = page.getByRole("region", { name: "Review changes" });
  await expect(review.getByText("The server accepts this change")).toBeVisible();
  await review.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/\/sidecars\/[^/?]+\?applied=1/, { timeout: 10_000 });
  const id = new URL(page.url()).pathname.split("/").pop()!;
  expect((await sidecar(page, id)).spec.lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
  await expect(page.getByText("before stop")).toBeVisible();
  await expect(page.getByText("sleeps 5 s")).toBeVisible();
  await remove(page.request, "logging/audit-logs", "drainer");
});
