import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { open, typeJson } from "./helpers";

// A second console, whose embedded cluster serves a Pipeline CRD of Calyptia Core's shape
// (server/tests/fixtures/calyptia-core-pipelines-crd.yaml); `cargo xtask test` starts it.
const base = process.env.CALYPTIA_BASE_URL;
test.skip(!base, "needs the console on a Calyptia Core-shaped cluster (CALYPTIA_BASE_URL)");
test.use({ baseURL: base });

test.beforeEach(async ({ page }) => {
  page.on("dialog", (d) => d.accept());
});

test("a field this cluster's Pipeline schema would drop is a problem as it is typed, and nothing can be applied", async ({ page }) => {
  await open(page, "/pipelines/logging/app-logs/sidecars/new?tab=json");
  await typeJson(
    page,
    JSON.stringify({ name: "exporter", image: "prom/statsd-exporter:v0.26.0", ports: [{ containerPort: 9102, hostPort: 9102 }] }, null, 2),
  );
  const problems = page.locator("section.problems");
  await expect(problems).toContainText("ports[0].hostPort");
  await expect(problems).toContainText("this cluster's Pipeline schema does not accept this field");
  await expect(page.getByRole("button", { name: "Review changes" })).toBeDisabled();
  const r = await page.request.get("/api/v1/pipelines/logging/app-logs/sidecars");
  expect((await r.json()).map((s: any) => s.name)).not.toContain("exporter");
});

test("the form offers the pre-stop sleep this cluster stores, and a sidecar made with it reaches every replica", async ({ page }) => {
  await open(page, "/pipelines/logging/app-logs/sidecars/new");
  await page.getByLabel("Name", { exact: true }).fill("drainer");
  await page.getByLabel("Image", { exact: true }).fill("nginx:1.27");
  await page.getByLabel("Pre-stop sleep (seconds)").fill("5");
  await page.getByRole("button", { name: "Review changes" }).click();
  const review = page.getByRole("region", { name: "Review changes" });
  await expect(review.getByText("The server accepts this change")).toBeVisible();
  await review.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/\/sidecars\/[^/?]+\?applied=1/, { timeout: 10_000 });
  const id = new URL(page.url()).pathname.split("/").pop()!;
  await expect
    .poll(async () => {
      const st = await (await page.request.get(`/api/v1/sidecars/${id}/status`)).json();
      return st.replicas.length > 0 && st.replicas.every((r: any) => r.ready);
    }, { timeout: 30_000 })
    .toBe(true);
  expect((await (await page.request.get(`/api/v1/sidecars/${id}`)).json()).spec.lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
  expect((await page.request.delete(`/api/v1/sidecars/${id}`)).status()).toBe(200);
});

/** kubectl against this console's cluster, as another tool would use it. */
function kubectl(...args: string[]): string {
  return execFileSync("kubectl", args, { env: { ...process.env, KUBECONFIG: process.env.CALYPTIA_KUBECONFIG! } }).toString();
}

test("the API server's warnings are shown in the review and after applying, never swallowed", async ({ page }) => {
  test.skip(!process.env.CALYPTIA_KUBECONFIG, "needs the cluster's kubeconfig (CALYPTIA_KUBECONFIG)");
  // The cluster's administrator marks the Pipeline version deprecated: the API server then
  // warns on every request to it.
  kubectl("patch", "crd", "pipelines.core.calyptia.com", "--type=json", "-p", '[{"op":"add","path":"/spec/versions/0/deprecated","value":true}]');
  try {
    await open(page, "/pipelines/logging/app-logs/sidecars/new");
    await page.getByLabel("Name", { exact: true }).fill("warned");
    await page.getByLabel("Image", { exact: true }).fill("busybox:1.36");
    await page.getByRole("button", { name: "Review changes" }).click();
    const review = page.getByRole("region", { name: "Review changes" });
    await expect(review.getByText("The server accepts this change")).toBeVisible();
    const note = review.getByRole("note", { name: "Kubernetes warnings" });
    await expect(note).toContainText("Warning: core.calyptia.com/v1 Pipeline is deprecated");
    await review.getByRole("button", { name: "Apply" }).click();
    await expect(page).toHaveURL(/\/sidecars\/[^/?]+\?applied=1&warning=/, { timeout: 10_000 });
    await expect(page.getByRole("note", { name: "Kubernetes warnings" })).toContainText("core.calyptia.com/v1 Pipeline is deprecated");
    const id = new URL(page.url()).pathname.split("/").pop()!;
    expect((await page.request.delete(`/api/v1/sidecars/${id}`)).status()).toBe(200);
  } finally {
    kubectl("patch", "crd", "pipelines.core.calyptia.com", "--type=json", "-p", '[{"op":"remove","path":"/spec/versions/0/deprecated"}]');
  }
});
