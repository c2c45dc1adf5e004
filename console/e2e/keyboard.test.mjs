// Keyboard: j/k move the selection, o opens, j/k move between tickets in the expert view, r and n
// focus the reply and the note, / focuses search, ? lists the shortcuts.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, signIn, listRows } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

const focused = (page) => page.evaluate(() => document.activeElement?.id ?? "");

test("the common actions work from the keyboard", async () => {
  const { page } = await newPage(browser);
  await signIn(page, "alice");
  const rows = await listRows(page);
  assert.ok(rows.length >= 2);
  await page.locator("h1").click(); // focus out of any field
  await page.keyboard.press("j");
  await page.locator(`tr.selected[data-number="${rows[0]}"]`).waitFor();
  await page.keyboard.press("j");
  await page.locator(`tr.selected[data-number="${rows[1]}"]`).waitFor();
  await page.keyboard.press("k");
  await page.locator(`tr.selected[data-number="${rows[0]}"]`).waitFor();
  await page.keyboard.press("o");
  await page.waitForURL(new RegExp(`/app/tickets/${rows[0]}$`));
  await page.locator("#reply-text").waitFor();
  await page.locator(".inbox li").first().waitFor();

  await page.keyboard.press("r");
  assert.equal(await focused(page), "reply-text");
  await page.keyboard.type("typed, not a shortcut: j k o");
  assert.match(page.url(), new RegExp(`/app/tickets/${rows[0]}$`), "keys typed into a field are text");
  await page.locator("#reply-text").fill("");
  await page.locator("h1").click();
  await page.keyboard.press("n");
  assert.equal(await focused(page), "note-text");
  await page.locator("h1").click();
  await page.keyboard.press("j");
  await page.waitForURL(new RegExp(`/app/tickets/${rows[1]}$`));
  await page.keyboard.press("/");
  assert.equal(await focused(page), "search");
  await page.locator("h1").click();
  await page.keyboard.press("?");
  const help = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await help.waitFor();
  assert.match(await help.innerText(), /next \/ previous ticket/);
  await page.keyboard.press("Escape");
  await help.waitFor({ state: "detached" });
});
