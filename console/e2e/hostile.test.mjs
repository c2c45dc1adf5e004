// An HTML email carrying <script>, onerror=, a javascript: link and remote images shows in the
// expert view without running anything and without any request leaving the machine (nor reaching
// anything but the desk itself).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { DESK, ROOT, launch, newPage, signIn, deliverMail, waitFor, apiCall, external, screenshot } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("a hostile HTML email runs nothing and loads nothing remote", async () => {
  deliverMail(join(ROOT, "console/e2e/fixtures/hostile.eml"));
  const ticket = await waitFor("the hostile mail's ticket", async () => {
    const r = await apiCall("admin", "GET", "/tickets?q=hostile&limit=5");
    return r.body?.items?.[0];
  });

  const { page, requests, errors } = await newPage(browser);
  const ran = [];
  await page.exposeFunction("__sawMessage", (m) => ran.push(m));
  await page.addInitScript(() => window.addEventListener("message", (e) => window.__sawMessage(String(e.data))));
  const dialogs = [];
  page.on("dialog", (d) => (dialogs.push(d.message()), d.dismiss()));
  await signIn(page, "admin", `/app/tickets/${ticket.number}`);
  const frame = page.locator("iframe.mail-html").first();
  await frame.waitFor();
  assert.equal(await frame.getAttribute("sandbox"), "", "sandbox with no permissions");
  const inner = page.frameLocator("iframe.mail-html").first();
  await inner.getByText("Hostile body text").waitFor();
  // Try the javascript: link and give any handler time to fire.
  await inner.locator("a").first().click({ timeout: 2000 }).catch(() => {});
  await page.waitForTimeout(1500);
  await screenshot(page, "expert-hostile-email");

  assert.deepEqual(ran, [], "no script, handler or javascript: link ran");
  assert.deepEqual(dialogs, []);
  assert.deepEqual(errors.map(String), []);
  assert.deepEqual(external(requests), [], "no request left 127.0.0.1");
  const desk = new URL(DESK).origin;
  const elsewhere = requests.filter((u) => u.startsWith("http") && !u.startsWith(desk));
  assert.deepEqual(elsewhere, [], "no request to anything but the desk");
  assert.ok(!requests.some((u) => u.includes("pixel.gif") || u.includes("remote.gif") || u.includes("bg.png")));
});

test("an inline image shows from the mail's own part, fetched with the bearer header", async () => {
  deliverMail(join(ROOT, "tests/mail/apple-mail-inline-image.eml"));
  const ticket = await waitFor("the inline-image mail's ticket", async () => {
    // The customer too: search reads notes now, and a seed note speaks of "captures".
    const r = await apiCall("admin", "GET", "/tickets?q=capture&customer=sophie@example.net&limit=5");
    return r.body?.items?.[0];
  });
  const { page, requests } = await newPage(browser);
  await signIn(page, "admin", `/app/tickets/${ticket.number}`);
  const inner = page.frameLocator("iframe.mail-html").first();
  const img = inner.locator('img[src^="data:image/png"]').first();
  await img.waitFor();
  assert.ok(await img.evaluate((i) => i.complete && i.naturalWidth > 0), "the image decoded");
  assert.ok(requests.some((u) => /\/attachments\/\d+$/.test(u)), "fetched through the API");
  assert.deepEqual(external(requests), []);
});
