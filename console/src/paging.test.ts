import { describe, expect, it } from "vitest";
import { allPages, firstNonEmpty, type Page } from "./paging";

/** A server whose filtered pages are sometimes empty while more exist. */
function server(pages: number[][]) {
  const calls: (string | null | undefined)[] = [];
  const get = async (cursor: string | null | undefined): Promise<Page<number>> => {
    calls.push(cursor);
    const i = cursor ? Number(cursor) : 0;
    return { items: pages[i] ?? [], next_cursor: i + 1 < pages.length ? String(i + 1) : null };
  };
  return { get, calls };
}

describe("cursor paging", () => {
  it("follows the cursor past empty pages to the next rows", async () => {
    const s = server([[], [], [7, 8], [9]]);
    expect(await firstNonEmpty(s.get, null)).toEqual({ items: [7, 8], next: "3" });
    expect(s.calls).toEqual([null, "1", "2"]);
  });
  it("stops at the end with nothing rather than looping", async () => {
    const s = server([[], []]);
    expect(await firstNonEmpty(s.get, null)).toEqual({ items: [], next: null });
  });
  it("continues from a given cursor", async () => {
    const s = server([[1], [], [3]]);
    expect(await firstNonEmpty(s.get, "1")).toEqual({ items: [3], next: null });
  });
  it("reads every page of a short list", async () => {
    const s = server([[1, 2], [], [3]]);
    expect(await allPages(s.get)).toEqual([1, 2, 3]);
  });
});
