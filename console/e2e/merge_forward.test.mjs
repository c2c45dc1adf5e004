// Merging a duplicate and forwarding to a third party from the expert view; a merge into a
// ticket the agent may not see is refused in the dialog and changes nothing.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, signIn, apiCall, screenshot, assertAccessible, waitFor } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

async function ticket(name, extra = {}) {
  const r = await apiCall("admin", "POST", "/tickets", { name, customer: { email: "merge-test@example.com", name: "Mia" }, ...extra });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.number;
}

test("an agent merges a duplicate into its ticket and forwards to a supplier", async () => {
  const dup = await ticket(`Duplicate ${Date.now()}`);
  const keep = await ticket(`Original ${Date.now()}`);
  const billing = await ticket(`Billing only ${Date.now()}`, { assignee: { type: "group", id: "billing" } });
  const { page } = await newPage(browser);
  await signIn(page, "alice", `/app/tickets/${dup}`);

  // Into a ticket alice may not see: refused, nothing changes.
  await page.getByRole("button", { name: "Merge…" }).click();
  const dialog = page.getByRole("form", { name: "Merge" });
  await dialog.locator("#merge-into").fill(String(billing));
  await dialog.getByRole("button", { name: "Merge", exact: true }).click();
  await dialog.getByRole("alert").waitFor();
  assert.match(await dialog.getByRole("alert").innerText(), /into/i);
  assert.equal((await apiCall("admin", "GET", `/tickets/${dup}`)).body.merged_into, null);

  await dialog.locator("#merge-into").fill(`#${keep}`);
  await assertAccessible(page, "merge dialog");
  await dialog.getByRole("button", { name: "Merge", exact: true }).click();
  await page.waitForURL((u) => u.pathname === `/app/tickets/${keep}`);
  await page.getByText(`merged #${dup} into this ticket`).waitFor();
  const merged = (await apiCall("admin", "GET", `/tickets/${dup}`)).body;
  assert.equal(merged.merged_into, keep);
  assert.equal(merged.status, "closed");

  // The merged ticket points at its target and offers no composer.
  await page.locator("p.hint", { hasText: "Merged here" }).getByRole("link", { name: `#${dup}` }).click();
  await page.getByText(`This ticket was merged into`).waitFor();
  assert.equal(await page.locator("#reply-text").count(), 0, "no composer on a merged ticket");
  await page.locator(".notice").getByRole("link", { name: `#${keep}`, exact: true }).click();
  await page.waitForURL((u) => u.pathname === `/app/tickets/${keep}`);

  // Forward: a new mail to a supplier, logged on the ticket, the supplier a participant now.
  const supplier = `orders-${Date.now()}@supplier.example`;
  await page.getByRole("button", { name: "Email a third party" }).click();
  const fwd = page.getByRole("form", { name: "Forward" });
  await fwd.locator("#forward-to").fill(supplier);
  await fwd.locator("#forward-text").fill("Can you **replace** the cartridge?");
  await assertAccessible(page, "forward dialog");
  await screenshot(page, "expert-forward");
  const [sent] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith(`/tickets/${keep}/forwards`)),
    fwd.getByRole("button", { name: "Send" }).click(),
  ]);
  assert.equal(sent.status(), 201, await sent.text());
  await page.getByText(`forwarded to ${supplier}`).waitFor();
  await page.locator("#participants").getByText(supplier).waitFor();
  const t = (await apiCall("admin", "GET", `/tickets/${keep}`)).body;
  assert.deepEqual(t.participants, [supplier]);
  await waitFor("the forward in the conversation", async () => {
    const list = (await apiCall("admin", "GET", `/tickets/${keep}/messages`)).body.items;
    return list.some((m) => m.direction === "outbound" && m.to.includes(supplier));
  });
  await screenshot(page, "expert-merged-and-forwarded");
});
