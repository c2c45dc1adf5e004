// The Service Queue: a waiting customer is announced in the page and as a browser notification
// (permission granted), Connect, Close, and deleting several after a confirmation.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { DESK, launch, signIn, apiCall } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

const newCase = async (name) => {
  const r = await apiCall("alice", "POST", "/service-cases", { customer_name: name, assignee: "alice" });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
};

test("waiting customers are announced; Connect, Close and bulk delete work", async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.grantPermissions(["notifications"], { origin: DESK });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__notified = [];
    const Real = window.Notification;
    window.Notification = class extends Real {
      constructor(title, opts) {
        super(title, opts);
        window.__notified.push(`${title}: ${opts?.body ?? ""}`);
      }
    };
    Object.defineProperty(window.Notification, "permission", { get: () => Real.permission });
  });
  await signIn(page, "alice", "/app/queue");
  await page.getByRole("heading", { name: "Service Queue" }).waitFor();

  const c = await newCase(`Quinn ${Date.now()}`);
  const row = page.locator(`tr[data-code="${c.code}"]`);
  await row.waitFor({ timeout: 8000 });
  const ev = await fetch(`${DESK}/public/cases/${c.code}/events`, { method: "POST", headers: { "content-type": "application/json", "x-case-secret": c.secret }, body: JSON.stringify({ type: "customer_connected" }) });
  assert.equal(ev.status, 200);
  await page.locator(".waiting-banner").getByText(c.code).waitFor({ timeout: 8000 });
  const notified = await page.evaluate(() => window.__notified);
  assert.ok(notified.some((n) => n.includes(c.code)), `a browser notification: ${notified}`);

  await row.getByRole("button", { name: "Connect" }).click();
  await page.getByText(`Connected to ${c.code}`).first().waitFor();
  await page.getByRole("link", { name: "open the remote session" }).waitFor();
  await row.locator(".case-status", { hasText: "in progress" }).waitFor();
  await row.getByRole("button", { name: "Close" }).click();
  await page.getByText(`Closed ${c.code}.`).waitFor();
  await row.waitFor({ state: "detached" }); // closed cases are not in the live filter

  const [a, b] = [await newCase("Delete me A"), await newCase("Delete me B")];
  await page.locator(`tr[data-code="${b.code}"]`).waitFor({ timeout: 8000 });
  await page.getByLabel(`Select session ${a.code}`).check();
  await page.getByLabel(`Select session ${b.code}`).check();
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Delete selected (2)" }).click();
  await page.getByText("Deleted 2.").waitFor();
  for (const x of [a, b]) assert.equal((await apiCall("alice", "GET", `/service-cases/${x.code}`)).status, 404);
});
