// The audit trail and a customer's export in admin settings: an administrator's change shows as
// an entry (who, what, from → to), filtered by action; an export downloads a ZIP archive and is
// itself recorded. Agents are refused by the API.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { launch, newPage, signIn, screenshot, apiCall, assertAccessible } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("admin reads the audit trail and exports a customer's data", async () => {
  const id = `audit${Date.now()}`;
  const made = await apiCall("admin", "POST", "/groups", { id, name: "Before" });
  assert.equal(made.status, 201);
  assert.equal((await apiCall("admin", "PUT", `/groups/${id}`, { name: "After" })).status, 200);

  const { page, errors } = await newPage(browser);
  await signIn(page, "admin", "/app/admin/audit");
  await page.getByRole("heading", { name: "Audit trail" }).waitFor();
  const row = page.getByRole("row").filter({ hasText: "group.updated" }).filter({ hasText: id });
  await row.waitFor();
  assert.match(await row.innerText(), /name: Before → After/);
  await page.getByLabel("Action").selectOption("group.created");
  await page.getByRole("row").filter({ hasText: "group.updated" }).first().waitFor({ state: "detached" });
  await page.getByRole("row").filter({ hasText: id }).filter({ hasText: "group.created" }).waitFor();
  assert.ok((await page.getByRole("row").count()) > 1);
  await assertAccessible(page, "admin audit trail");
  await screenshot(page, "admin-audit");

  await page.getByRole("navigation", { name: "Admin settings" }).getByRole("link", { name: "Export customer" }).click();
  await page.getByLabel("Customer email").fill("carol@example.com");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export" }).click()]);
  const zip = await readFile(await download.path());
  assert.equal(zip.subarray(0, 2).toString(), "PK", "a ZIP archive");
  await page.getByText("Exported carol@example.com.").waitFor();
  await assertAccessible(page, "admin export");
  assert.deepEqual(errors, []);

  const trail = await apiCall("admin", "GET", "/audit?action=customer.exported&limit=1");
  assert.equal(trail.body.items[0].target, "carol@example.com");
  assert.equal((await apiCall("alice", "GET", "/audit")).status, 403);
  assert.equal((await apiCall("alice", "POST", "/exports", { customer: "carol@example.com" })).status, 403);
});
