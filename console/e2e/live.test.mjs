// Live: while the tab is visible the list and the open ticket refresh on their own and show what
// changed, keeping the selection, the scroll position and the draft.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, signIn, listRows, apiCall } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("the list and the open ticket refresh live without losing selection or draft", async () => {
  const { page } = await newPage(browser);
  await signIn(page, "alice");
  await listRows(page);
  await page.locator('tr[data-number="1003"]').click();
  await page.getByRole("complementary", { name: "Ticket overview" }).waitFor();

  // Someone else changes 1003.
  const t = (await apiCall("admin", "GET", "/tickets/1003")).body;
  const priority = t.priority === "urgent" ? "high" : "urgent";
  assert.equal((await apiCall("admin", "PATCH", "/tickets/1003", { version: t.version, priority })).status, 200);
  const row = page.locator('tr[data-number="1003"]');
  await row.locator(`.badge.priority-${priority}`).waitFor({ timeout: 15_000 });
  assert.match((await row.getAttribute("class")) ?? "", /changed/);
  assert.match((await row.getAttribute("class")) ?? "", /selected/, "the selection stays");

  // The open ticket: a draft in progress, a note from someone else arrives.
  await page.getByRole("button", { name: "Go to ticket" }).click();
  await page.locator("#reply-text").fill("Half-written answer");
  await page.locator("#reply-text").press("End");
  const body = `Live note ${Date.now()}`;
  assert.equal((await apiCall("admin", "POST", "/tickets/1003/notes", { body })).status, 201);
  const entry = page.locator(".timeline .entry.fresh", { hasText: body });
  await entry.waitFor({ timeout: 15_000 });
  await entry.locator(".new-tag").waitFor();
  assert.equal(await page.locator("#reply-text").inputValue(), "Half-written answer");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "reply-text", "focus stays in the draft");
  const now = (await apiCall("admin", "GET", "/tickets/1003")).body;
  await apiCall("admin", "PATCH", "/tickets/1003", { version: now.version, priority: t.priority });
});
