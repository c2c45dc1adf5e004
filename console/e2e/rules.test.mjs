// An administrator creates a rule with the builder, moves it first, dry-runs a sample email and
// sees it hit.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, signIn, screenshot, apiCall } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("admin creates a rule, moves it first and dry-runs a sample email that hits it", async () => {
  // Another rule first, so that moving matters.
  const other = await apiCall("admin", "POST", "/rules", { name: `Earlier ${Date.now()}`, enabled: true, match_mode: "all", conditions: [{ field: "subject", operator: "contains", value: "never-matches-xyz", case_sensitive: false }], actions: { notify: false } });
  assert.equal(other.status, 201, JSON.stringify(other.body));

  const { page } = await newPage(browser);
  await signIn(page, "admin", "/app/admin/rules");
  const name = `VIP ${Date.now()}`;
  await page.getByRole("button", { name: "New rule" }).click();
  const form = page.getByRole("form", { name: "New rule" });
  await form.locator("#rule-name").fill(name);
  await form.getByRole("radio", { name: "any condition" }).check();
  await form.getByLabel("Condition 1 field").selectOption("subject");
  await form.getByLabel("Condition 1 operator").selectOption("contains");
  await form.getByLabel("Condition 1 value").fill("outage");
  await form.getByRole("button", { name: "Add condition" }).click();
  await form.getByLabel("Condition 2 field").selectOption("sender_domain");
  await form.getByLabel("Condition 2 operator").selectOption("equals");
  await form.getByLabel("Condition 2 value").fill("vip.example");
  await form.locator("#rule-priority").selectOption("urgent");
  await form.getByLabel("Assign to").selectOption("group:support");
  await form.getByRole("checkbox", { name: "Notify the assignee" }).check();
  await form.getByRole("button", { name: "Save rule" }).click();
  const item = page.locator(`li.rule[data-rule="${name}"]`);
  await item.waitFor();

  await item.getByRole("button", { name: `Move ${name} first` }).click();
  await page.getByText(`Moved “${name}”.`).waitFor();
  const order = await page.locator("li.rule").evaluateAll((lis) => lis.map((l) => l.dataset.rule));
  assert.equal(order[0], name, `first after the move: ${order.join(" | ")}`);

  await page.locator("#dry-subject").fill("Total outage since this morning");
  await page.getByRole("button", { name: "Dry run", exact: true }).click();
  await page.locator(".dry-hit").getByText(name).waitFor();
  assert.match(await page.locator(".dry-result").innerText(), /priority urgent/);
  await screenshot(page, "admin-rules-dry-run");

  // The API agrees: the new rule runs first.
  const rules = (await apiCall("admin", "GET", "/rules")).body.items.filter((r) => !r.is_default).sort((a, b) => a.position - b.position);
  assert.equal(rules[0].name, name);
});
