// bob (group billing) never sees a support ticket in any view or search; agents see no admin
// settings, and the admin routes show a refusal instead of the pages.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, signIn, listRows } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

const SUPPORT_ONLY = ["1001", "1004"]; // the support group's and alice's tickets in the seed

test("bob never sees a support ticket in the list, a search, the inbox or by URL", async () => {
  const { page } = await newPage(browser);
  await signIn(page, "bob");
  const shown = await listRows(page);
  assert.ok(shown.length > 0);
  for (const n of SUPPORT_ONLY) assert.ok(!shown.includes(n), `ticket ${n} in bob's list`);

  await page.locator("#search").fill("portal");
  await page.locator("form[role=search] button[type=submit]").click();
  await page.waitForURL(/q=portal/);
  assert.deepEqual(await listRows(page), []);
  await page.getByText("No tickets match.").waitFor();

  // A shared link to a support ticket: a clear message, nothing of the ticket.
  await page.evaluate(() => {
    history.pushState(null, "", "/app/tickets/1001");
    dispatchEvent(new PopStateEvent("popstate"));
  });
  await page.getByText("Ticket #1001 does not exist or you may not see it.").waitFor();
  assert.equal(await page.getByText("Cannot log in to the portal").count(), 0);
  const inbox = await page.locator(".inbox li a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  for (const n of SUPPORT_ONLY) assert.ok(!inbox.some((h) => h.startsWith(`/app/tickets/${n}`)), `ticket ${n} in bob's inbox`);
});

test("an agent sees no admin settings; an administrator does", async () => {
  const { page } = await newPage(browser);
  await signIn(page, "alice");
  assert.equal(await page.getByRole("link", { name: "Admin settings" }).count(), 0);
  await page.evaluate(() => {
    history.pushState(null, "", "/app/admin/rules");
    dispatchEvent(new PopStateEvent("popstate"));
  });
  await page.getByText("Admin settings are for administrators.").waitFor();
  assert.equal(await page.getByRole("heading", { name: "Rules" }).count(), 0);

  const admin = await newPage(browser);
  await signIn(admin.page, "admin");
  await admin.page.getByRole("link", { name: "Admin settings" }).waitFor();
});

test("the quick filters count only what the caller may see, as the list shows it", async () => {
  const countOf = async (page, name) => {
    const button = page.locator(".quick button", { hasText: new RegExp(`^${name}\\b`) }).first();
    await button.locator(".count").waitFor();
    return Number(await button.locator(".count").innerText());
  };
  const admin = await newPage(browser);
  await signIn(admin.page, "admin");
  const bob = await newPage(browser);
  await signIn(bob.page, "bob");
  for (const [page, who] of [[admin.page, "admin"], [bob.page, "bob"]]) {
    const open = await countOf(page, "open");
    await page.locator(".quick button", { hasText: /^open\b/ }).first().click();
    await page.waitForURL(/status=open/);
    assert.equal((await listRows(page)).length, open, `${who}: the open count is the open list`);
  }
  for (const name of ["open", "processing", "waiting", "closed", "low", "medium", "high", "urgent"]) {
    const [all, his] = [await countOf(admin.page, name), await countOf(bob.page, name)];
    assert.ok(his <= all, `${name}: bob ${his}, admin ${all}`);
  }
});
