import { expect, Page, APIRequestContext } from "@playwright/test";

/** Opens `path` and waits until the page is hydrated (interactive). */
export async function open(page: Page, path: string) {
  await page.goto(path);
  await page.waitForFunction(() => (window as any).__sidecarHydrated === true, null, { timeout: 20_000 });
}

/** Waits until the page's live stream is connected. */
export async function live(page: Page) {
  await expect(page.locator(".live")).toHaveText(/^live$/, { timeout: 10_000 });
}

export type Sidecar = { id: string; name: string; image: string; etag: string; status: { ready: number; replicas: number; state: string } };

/** The sidecars of a pipeline, through the REST API. */
export async function sidecars(request: APIRequestContext, pipeline: string): Promise<Sidecar[]> {
  const r = await request.get(`/api/v1/pipelines/${pipeline}/sidecars`);
  expect(r.status()).toBe(200);
  return r.json();
}

/** Adds a sidecar through the REST API; answers its ID. */
export async function create(request: APIRequestContext, pipeline: string, spec: object): Promise<string> {
  const r = await request.post(`/api/v1/pipelines/${pipeline}/sidecars`, { data: spec });
  expect(r.status(), await r.text()).toBe(201);
  return (await r.json()).id;
}

/** Removes sidecars of these names (left over from an earlier run), through the REST API. */
export async function remove(request: APIRequestContext, pipeline: string, ...names: string[]) {
  for (const s of await sidecars(request, pipeline)) {
    if (names.includes(s.name)) {
      expect((await request.delete(`/api/v1/sidecars/${s.id}`)).status()).toBe(200);
    }
  }
}

/** Waits until every replica of the pipeline runs its current sidecars. */
export async function rolledOut(request: APIRequestContext, pipeline: string) {
  await expect
    .poll(
      async () => {
        const st = await (await request.get(`/api/v1/pipelines/${pipeline}/status`)).json();
        return st.status.rollout.complete && st.status.replicas.every((r: any) => r.current);
      },
      { timeout: 30_000 },
    )
    .toBe(true);
}

/** Replaces the text of the JSON view's Monaco editor, pasting it as a person would. */
export async function typeJson(page: Page, text: string) {
  const editor = page.locator(".monaco-host .monaco-editor");
  await expect(editor).toBeVisible({ timeout: 20_000 });
  await editor.click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await page.keyboard.press("ControlOrMeta+V");
}
