import { test, expect, Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import path from "node:path";

// A console with `--auth token` on a cluster that authorizes with RBAC
// (fixtures/tokens.csv, fixtures/rbac.yaml); `cargo xtask test` starts it.
const base = process.env.AUTH_BASE_URL;
const kubeconfig = process.env.AUTH_KUBECONFIG;
test.skip(!base || !kubeconfig, "needs the console that signs users in (AUTH_BASE_URL, AUTH_KUBECONFIG)");
test.use({ baseURL: base });

const READER = "reader-token-for-browser-tests";
const ALICE = "alice-token-for-browser-tests";

test.beforeAll(() => {
  execFileSync("kubectl", ["--kubeconfig", kubeconfig!, "apply", "-f", path.join(__dirname, "../fixtures/rbac.yaml")]);
});

async function signIn(page: Page, token: string, next = "/pipelines") {
  await page.goto(next);
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel("Kubernetes token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(new RegExp(`${next.replace(/[?]/g, "\\?")}$`));
  await page.waitForFunction(() => (window as any).__sidecarHydrated === true, null, { timeout: 20_000 });
}

test("a token Kubernetes does not know is refused on the sign-in page, which says so", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Kubernetes token").fill("made-up");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Kubernetes did not accept this token.");
});

test("a read-only user sees the pipelines, every change disabled with the reason, and signs out", async ({ page }) => {
  await signIn(page, READER, "/pipelines/logging/app-logs");
  await expect(page.getByRole("heading", { name: "app-logs" })).toBeVisible();
  const add = page.getByRole("button", { name: "Add sidecar" });
  await expect(add).toBeDisabled();
  await expect(page.getByRole("note").filter({ hasText: "does not allow you to change pipelines" })).toBeVisible();
  await expect(page.getByRole("button", { name: /^Edit / }).first()).toBeDisabled();
  await expect(page.getByRole("button", { name: /^Delete / }).first()).toBeDisabled();
  // The REST API answers the same user 403 in Kubernetes' words.
  const r = await page.request.post("/api/v1/pipelines/logging/app-logs/sidecars", { data: { name: "x", image: "busybox:1.36" } });
  expect(r.status()).toBe(403);
  expect((await r.json()).error).toContain('User "reader" cannot update resource "pipelines"');
  await expect(page.locator(".topbar .user")).toHaveText("reader");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/pipelines");
  await expect(page).toHaveURL(/\/login\?next=/);
});

test("a user bound in one namespace sees only its pipelines, and may change them", async ({ page }) => {
  await signIn(page, ALICE);
  const table = page.getByRole("table");
  await expect(table).toContainText("app-logs");
  await expect(table).not.toContainText("node-metrics");
  await expect(page.getByRole("combobox", { name: "Namespace" })).not.toContainText("observability");
  await page.goto("/pipelines/logging/app-logs");
  await expect(page.getByRole("link", { name: "Add sidecar" })).toBeVisible();
  await page.goto("/pipelines/observability/node-metrics");
  await expect(page.getByText(/forbidden/)).toBeVisible();
});
