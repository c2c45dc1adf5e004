// alice signs in, searches, opens a ticket, replies (the mail lands in moto's SES record), adds a
// note, changes the status, creates a session and finds it in the Service Queue; the customer's
// module reports customer_connected through the public route and alice sees it without reloading.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { DESK, MOTO, launch, newPage, signIn, waitFor, apiCall, screenshot, listRows } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

async function sesRaw() {
  for (let i = 0; i < 10; i++) {
    try {
      const d = await (await fetch(`${MOTO}/moto-api/data.json`)).json();
      return [...(d.ses?.RawMessage ?? []), ...(d.ses?.Message ?? [])].map((m) => m.raw_data ?? JSON.stringify(m));
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return [];
}

test("alice works ticket 1001 end to end and sees the waiting customer live", async () => {
  const { page, errors } = await newPage(browser);
  await signIn(page, "alice");

  // Search: the URL holds it; the list shows the match.
  await page.locator("#search").fill("portal");
  await page.locator("form[role=search] button[type=submit]").click();
  await page.waitForURL(/q=portal/);
  assert.deepEqual(await listRows(page), ["1001"]);
  // The list survives a reload: tokens live in memory, so the reload signs in again and comes
  // back to the same URL.
  await page.reload();
  await page.waitForURL(/\/dev-oidc\/authorize/);
  await page.locator('button[name="user"][value="alice"]').click();
  await page.waitForURL(/\/app\/tickets\?q=portal$/);
  assert.deepEqual(await listRows(page), ["1001"]);
  await page.locator('tr[data-number="1001"]').click();
  await page.getByRole("complementary", { name: "Ticket overview" }).getByText("Carol Customer").waitFor();
  await page.getByRole("button", { name: "Go to ticket" }).click();
  await page.waitForURL(/\/app\/tickets\/1001/);
  await page.getByRole("heading", { name: /#1001 Cannot log in/ }).waitFor();

  // Reply by email with a status to set after sending.
  const marker = `Marker${Date.now()}`;
  await page.locator("#reply-text").fill(`${marker} please reset again`);
  await page.locator("#reply-status").selectOption("waiting");
  await page.getByRole("button", { name: "Send reply" }).dblclick(); // a double click sends once
  await page.getByText("Reply sent.").waitFor();
  const mails = await waitFor("the reply in moto's SES record", async () => {
    const found = (await sesRaw()).filter((r) => r.includes(marker));
    return found.length ? found : null;
  });
  assert.equal(mails.length, 1, "one mail for a double click");
  assert.match(mails[0], /\[#1001\]/);
  await page.locator(".timeline").getByText(marker).first().waitFor();
  assert.equal(await page.locator("#field-status").inputValue(), "waiting");

  // A note, then a status change in place.
  await page.locator("#note-text").fill(`Called Carol ${marker}`);
  await page.getByRole("button", { name: "Add note" }).click();
  await page.locator(".notes").getByText(`Called Carol ${marker}`).waitFor();
  await page.locator("#field-status").selectOption("processing");
  await page.locator(".timeline").getByText("status: waiting → processing").waitFor();

  // Create session, with the link emailed, and find it in the Service Queue.
  await page.getByRole("button", { name: "Create session" }).click();
  await page.getByRole("button", { name: "Create without email" }).click();
  const link = await page.getByRole("dialog").getByLabel("Join link").inputValue();
  const code = /\/(s\d{3}-\d{3}-\d{3})\?secret=([A-Za-z0-9_-]+)/.exec(link);
  assert.ok(code, `a join link with code and secret: ${link}`);
  await page.getByRole("dialog").getByRole("link", { name: "Open the Service Queue" }).click();
  await page.waitForURL(/\/app\/queue/);
  const row = page.locator(`tr[data-code="${code[1]}"]`);
  await row.waitFor();
  assert.equal(await row.locator(".case-status").innerText(), "new");
  await screenshot(page, "service-queue");

  // The customer's module connects (public route, case secret); alice sees it without reloading.
  const url = page.url();
  const r = await fetch(`${DESK}/public/cases/${code[1]}/events`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-case-secret": code[2] },
    body: JSON.stringify({ type: "customer_connected" }),
  });
  assert.equal(r.status, 200, await r.text());
  await page.locator(".waiting-banner").getByText(code[1]).waitFor({ timeout: 8000 });
  assert.equal(await row.locator(".case-status").innerText(), "pending");
  assert.equal(page.url(), url, "no reload, no navigation");
  await screenshot(page, "service-queue-waiting");
  assert.deepEqual(errors, []);

  // Leave the ticket as the seed made it, for the other suites.
  const t = await apiCall("admin", "GET", "/tickets/1001");
  await apiCall("admin", "PATCH", "/tickets/1001", { version: t.body.version, status: "open" });
});
