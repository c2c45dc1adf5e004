// Two browser contexts edit one ticket: the second sees the conflict, what the first changed, and
// can re-apply its own change.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, signIn, apiCall, screenshot } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("the second editor sees the conflict and re-applies", async () => {
  const a = await newPage(browser);
  const b = await newPage(browser);
  await signIn(a.page, "admin", "/app/tickets/1003");
  await signIn(b.page, "alice", "/app/tickets/1003");
  await a.page.locator("#field-priority").waitFor();
  await b.page.locator("#field-priority").waitFor();
  const before = (await apiCall("admin", "GET", "/tickets/1003")).body;
  const otherPriority = before.priority === "high" ? "urgent" : "high";

  await a.page.locator("#field-priority").selectOption(otherPriority);
  await a.page.getByText("Saved.").waitFor();
  await b.page.locator("#field-status").selectOption("processing");

  const box = b.page.locator(".notice-conflict");
  await box.waitFor();
  const text = await box.innerText();
  assert.match(text, /Admin|Administrator/, "who changed it");
  assert.match(text, new RegExp(`priority: ${before.priority} → ${otherPriority}`));
  assert.match(text, /status: processing/);
  await screenshot(b.page, "expert-conflict");
  let now = (await apiCall("admin", "GET", "/tickets/1003")).body;
  assert.equal(now.status, before.status, "nothing overwritten silently");

  // Wait for the re-applied PATCH itself, not only the notice, so a failure names what the
  // server answered.
  const [reapplied] = await Promise.all([
    b.page.waitForResponse((r) => r.request().method() === "PATCH" && r.url().endsWith("/tickets/1003")),
    box.getByRole("button", { name: "Re-apply my change" }).click(),
  ]);
  const answer = await reapplied.json();
  assert.equal(reapplied.status(), 200, JSON.stringify(answer));
  assert.equal(answer.status, "processing", JSON.stringify(answer));
  await b.page.getByText("Saved.").waitFor();
  now = (await apiCall("admin", "GET", "/tickets/1003")).body;
  assert.equal(now.status, "processing", `after the PATCH answered version ${answer.version}, the ticket is at version ${now.version}`);
  assert.equal(now.priority, otherPriority, "their change kept");
  await apiCall("admin", "PATCH", "/tickets/1003", { version: now.version, status: before.status, priority: before.priority });
});
