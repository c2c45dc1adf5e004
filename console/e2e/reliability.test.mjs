// Reliability: a 401 sends the agent to sign in again and back, with the unsent reply and note
// still there; a 5xx or a network failure shows a retry notice (never a blank page) and Retry
// recovers; 403/404 give a clear message (visibility.test.mjs covers the 404 of a hidden ticket).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, signIn, listRows } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("an expired session signs in again and keeps the unsent reply and note", async () => {
  const { page } = await newPage(browser);
  await signIn(page, "alice", "/app/tickets/1003");
  await page.locator("#reply-text").fill("Draft reply that must survive");
  await page.locator("#reply-cc").fill("boss@example.org");
  await page.locator("#note-text").fill("Draft note that must survive");

  // The next API call answers 401, as for an expired or revoked token.
  let refused = 0;
  await page.route("**/tickets/1003", (route) => {
    if (refused++ > 0 || route.request().resourceType() !== "fetch") return route.fallback();
    return route.fulfill({ status: 401, contentType: "application/problem+json", body: JSON.stringify({ type: "urn:service-desk:problem:unauthorized", title: "Unauthorized", status: 401, code: "unauthorized", detail: "the token has expired" }) });
  });
  await page.locator("#field-priority").selectOption("high");
  await page.waitForURL(/\/dev-oidc\/authorize/);
  await page.locator('button[name="user"][value="alice"]').click();
  await page.waitForURL(/\/app\/tickets\/1003$/);
  await page.locator("#reply-text").waitFor();
  assert.equal(await page.locator("#reply-text").inputValue(), "Draft reply that must survive");
  assert.equal(await page.locator("#reply-cc").inputValue(), "boss@example.org");
  assert.equal(await page.locator("#note-text").inputValue(), "Draft note that must survive");
  // No token ever lands in browser storage or the URL.
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.ok(!/eyJ[A-Za-z0-9_-]{10,}\./.test(stored), "no JWT in storage");
  assert.ok(!/access_token|refresh_token/.test(stored), "no token in storage");
  assert.ok(!/token|code=/.test(page.url()), "no token or code left in the URL");
});

test("a 5xx and a network failure show a retry notice; Retry recovers", async () => {
  const { page } = await newPage(browser);
  await signIn(page, "alice");
  await listRows(page);

  let mode = "503";
  await page.route("**/tickets?**", (route) => {
    if (mode === "503") return route.fulfill({ status: 503, contentType: "application/problem+json", body: JSON.stringify({ type: "urn:service-desk:problem:storage_unavailable", title: "Unavailable", status: 503, code: "storage_unavailable", detail: "try again" }) });
    if (mode === "network") return route.abort("connectionrefused");
    return route.fallback();
  });
  await page.getByRole("button", { name: "urgent" }).click();
  const notice = page.locator(".notice-retry");
  await notice.getByText("unavailable right now (503)").waitFor();
  mode = "network";
  await notice.getByRole("button", { name: "Retry" }).click();
  await notice.getByText("cannot be reached").waitFor();
  assert.ok(await page.locator("table.tickets").isVisible(), "the page is not blank");
  mode = "ok";
  await notice.getByRole("button", { name: "Retry" }).click();
  await notice.waitFor({ state: "detached" });
  assert.deepEqual(await listRows(page), []); // alice has no urgent ticket in the seed
});
