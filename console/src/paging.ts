// Cursor paging: a filtered page can be empty while `next_cursor` is set, so the console keeps
// following the cursor until it has rows or the end; the agent never sees an empty page or a dead
// end while more exist. Pure (the page getter is passed in); unit-tested.
export type Page<T> = { items: T[]; next_cursor: string | null };

export async function firstNonEmpty<T>(
  get: (cursor: string | null) => Promise<Page<T>>,
  cursor: string | null,
  maxHops = 20,
): Promise<{ items: T[]; next: string | null }> {
  let next = cursor;
  const items: T[] = [];
  for (let hops = 0; hops < maxHops; hops++) {
    const page = await get(next);
    items.push(...page.items);
    next = page.next_cursor;
    if (items.length > 0 || !next) break;
  }
  return { items, next };
}

/** Every page of a short list (activity, messages, notes, the Service Queue). */
export async function allPages<T>(get: (cursor: string | undefined) => Promise<Page<T>>, maxPages = 50): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = await get(cursor);
    out.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return out;
}
