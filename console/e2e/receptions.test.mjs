// One email received twice (an SMTP retry) is one message on one ticket; the console says how
// often it came and downloads each reception's raw, byte for byte.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, newPage, signIn, deliverMail, waitFor, apiCall } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("a message received twice shows once, received 2 times, each raw downloadable", async () => {
  const id = `${Date.now()}`;
  const customer = `twice-${id}@example.com`;
  const dir = mkdtempSync(join(tmpdir(), "receptions-"));
  const headers = `From: Tess <${customer}>\r\nTo: support@desk.example\r\nSubject: Sent twice ${id}\r\nMessage-ID: <twice-${id}@mail.example.com>\r\nDate: Sun, 6 Dec 2026 10:00:00 +0000\r\n`;
  // The second reception came through another relay: other transport headers, same message.
  writeFileSync(join(dir, "first.eml"), `Received: from a.example\r\n${headers}\r\nThe printer is on fire.\r\n`);
  writeFileSync(join(dir, "second.eml"), `Received: from b.example\r\n${headers}\r\nThe printer is on fire.\r\n`);
  deliverMail(join(dir, "first.eml"));
  deliverMail(join(dir, "second.eml"));
  const ticket = await waitFor("the ticket", async () => (await apiCall("admin", "GET", `/tickets?customer=${encodeURIComponent(customer)}`)).body?.items?.[0]);
  const list = await waitFor("both receptions on one message", async () => {
    const items = (await apiCall("admin", "GET", `/tickets/${ticket.number}/messages`)).body.items;
    return items.length === 1 && items[0].receptions?.length === 1 ? items : null;
  });
  assert.equal((await apiCall("admin", "GET", `/tickets?customer=${encodeURIComponent(customer)}`)).body.items.length, 1, "one ticket");

  const { page } = await newPage(browser);
  await signIn(page, "admin", `/app/tickets/${ticket.number}`);
  await page.getByText("received 2 times").waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Raw of reception 2" }).click()]);
  const saved = join(dir, "downloaded.eml");
  await download.saveAs(saved);
  assert.equal(readFileSync(saved, "utf8"), readFileSync(join(dir, "second.eml"), "utf8"), "the second reception's raw, byte for byte");
  assert.equal(list[0].receptions.length, 1);
});
