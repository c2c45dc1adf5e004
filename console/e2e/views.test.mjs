// Every view: axe-core reports no serious or critical violation, and a screenshot is saved to
// docs/screenshots/ (the README shows them).
import { after, before, test } from "node:test";
import { launch, newPage, signIn, assertAccessible, screenshot } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

const go = (page, path) =>
  page.evaluate((p) => {
    history.pushState(null, "", p);
    dispatchEvent(new PopStateEvent("popstate"));
  }, path);

test("every view passes axe-core and is captured", async () => {
  const { page } = await newPage(browser);
  await signIn(page, "admin", "/app/tickets");
  await page.locator("table.tickets tbody tr").first().waitFor();
  await page.locator('tr[data-number="1002"]').click();
  await page.getByRole("complementary", { name: "Ticket overview" }).waitFor();
  await assertAccessible(page, "list view with the overview panel");
  await screenshot(page, "list-view");

  await page.getByRole("button", { name: "New ticket" }).click();
  await page.getByRole("dialog").waitFor();
  await assertAccessible(page, "new ticket dialog");
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();

  await go(page, "/app/tickets/1002");
  await page.locator(".timeline .entry").first().waitFor();
  await assertAccessible(page, "expert view");
  await screenshot(page, "expert-view");

  await go(page, "/app/queue");
  await page.getByRole("heading", { name: "Service Queue" }).waitFor();
  await page.waitForSelector("table.cases, .empty");
  await assertAccessible(page, "Service Queue");

  for (const section of ["rules", "users", "groups", "mailboxes", "modules"]) {
    await go(page, `/app/admin/${section}`);
    await page.locator(".admin-main h1").waitFor();
    await page.waitForTimeout(300);
    await assertAccessible(page, `admin ${section}`);
    await screenshot(page, `admin-${section}`);
  }

  await page.keyboard.press("?");
  await page.getByRole("dialog", { name: "Keyboard shortcuts" }).waitFor();
  await assertAccessible(page, "shortcuts overlay");
  await screenshot(page, "shortcuts");
});
