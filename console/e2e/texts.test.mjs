// Text modules: an administrator writes one in the admin settings; an agent inserts it into a
// reply, filled for the ticket and for them, and sends it. Agents cannot write modules.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, signIn, screenshot, apiCall, assertAccessible } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("admin writes a text module; an agent inserts it filled and sends the reply", async () => {
  const name = `Restart ${Date.now()}`;
  const admin = await newPage(browser);
  await signIn(admin.page, "admin", "/app/admin/texts");
  await admin.page.getByRole("button", { name: "Add text module" }).click();
  const form = admin.page.getByRole("form", { name: "Text module" });
  await form.getByLabel("Name").fill(name);
  await form.locator("#module-text").fill("Hello {{customer.first_name}},\n\nplease **restart** it (ticket {{ticket.number}}).\n\n{{agent.name}}");
  await form.getByRole("button", { name: "Save text module" }).click();
  await admin.page.getByText(`Saved text module ${name}.`).waitFor();
  await admin.page.getByRole("cell", { name, exact: true }).waitFor();
  await assertAccessible(admin.page, "admin text modules");
  await screenshot(admin.page, "admin-text-modules");

  const ticket = (await apiCall("alice", "GET", "/tickets/1003")).body;
  const alice = await newPage(browser);
  await signIn(alice.page, "alice", "/app/tickets/1003");
  await alice.page.locator("#reply-text").fill("");
  await alice.page.locator("#reply-module").selectOption({ label: name });
  await alice.page.waitForFunction(() => document.querySelector("#reply-text")?.value.includes("restart"));
  const inserted = await alice.page.locator("#reply-text").inputValue();
  const first = ticket.customer.name.split(/\s+/)[0] || ticket.customer.email;
  const me = (await apiCall("alice", "GET", "/me")).body.user.name;
  assert.equal(inserted, `Hello ${first},\n\nplease **restart** it (ticket 1003).\n\n${me}`);
  assert.ok(!inserted.includes("{{"), `placeholders filled: ${inserted}`);
  await screenshot(alice.page, "reply-text-module");

  const [sent] = await Promise.all([
    alice.page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/tickets/1003/replies")),
    alice.page.getByRole("button", { name: "Send reply" }).click(),
  ]);
  assert.equal(sent.status(), 201);
  const body = await sent.json();
  assert.match(body.html, /<strong>restart<\/strong>/, "the mail has the rendered HTML part");

  // The API refuses agents' writes (visibility.test.mjs shows agents get no admin view).
  const refused = await apiCall("alice", "POST", "/text-modules", { name: "Mine", text: "x" });
  assert.equal(refused.status, 403);
});
