import { describe, expect, it } from "vitest";
import { clearReply, loadNote, loadReply, parseCc, saveNote, saveReply, type KV } from "./drafts";

function memory(): KV & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
}

describe("draft store", () => {
  it("keeps a reply and its idempotency key across loads (a reload)", () => {
    const s = memory();
    const d = loadReply(s, 1001);
    saveReply(s, 1001, { ...d, text: "Hello", cc: "a@x.org" });
    const again = loadReply(s, 1001);
    expect(again).toEqual({ text: "Hello", cc: "a@x.org", status: "", key: d.key });
  });
  it("gives the next draft a new key once sent", () => {
    const s = memory();
    const d = loadReply(s, 7);
    saveReply(s, 7, { ...d, text: "x" });
    const next = clearReply(s, 7);
    expect(next.key).not.toBe(d.key);
    expect(s.data.size).toBe(0);
  });
  it("keeps drafts per ticket and notes apart from replies", () => {
    const s = memory();
    saveNote(s, 1, { text: "note one" });
    saveReply(s, 1, { ...loadReply(s, 1), text: "reply one" });
    expect(loadNote(s, 1).text).toBe("note one");
    expect(loadNote(s, 2).text).toBe("");
    expect(loadReply(s, 1).text).toBe("reply one");
  });
  it("survives garbage in storage", () => {
    const s = memory();
    s.setItem("desk.draft.reply.3", "{not json");
    expect(loadReply(s, 3).text).toBe("");
  });
  it("removes an empty draft", () => {
    const s = memory();
    saveNote(s, 1, { text: "x" });
    saveNote(s, 1, { text: "" });
    expect(s.data.size).toBe(0);
  });
  it("splits cc on commas, semicolons and spaces", () => {
    expect(parseCc(" a@x.org, b@y.org;c@z.org  ")).toEqual(["a@x.org", "b@y.org", "c@z.org"]);
  });
});
