// Unsent replies and notes, kept in browser storage across reloads and sign-ins (drafts are not
// secrets; tokens never go there). A reply draft carries its own Idempotency-Key from its first
// keystroke until it is sent, so a double click or a retry sends one mail.
export type KV = Pick<Storage, "getItem" | "setItem" | "removeItem">;

export type ReplyDraft = { text: string; cc: string; status: string; key: string };
export type NoteDraft = { text: string };

const PREFIX = "desk.draft.";
const keyOf = (kind: "reply" | "note", ticket: number) => `${PREFIX}${kind}.${ticket}`;

function read<T>(store: KV, k: string): Partial<T> | null {
  try {
    const v = store.getItem(k);
    return v ? (JSON.parse(v) as Partial<T>) : null;
  } catch {
    return null;
  }
}

export function newKey(): string {
  return crypto.randomUUID();
}

export function loadReply(store: KV, ticket: number): ReplyDraft {
  const d = read<ReplyDraft>(store, keyOf("reply", ticket));
  return {
    text: typeof d?.text === "string" ? d.text : "",
    cc: typeof d?.cc === "string" ? d.cc : "",
    status: typeof d?.status === "string" ? d.status : "",
    key: typeof d?.key === "string" && d.key ? d.key : newKey(),
  };
}

export function saveReply(store: KV, ticket: number, d: ReplyDraft): void {
  if (!d.text && !d.cc && !d.status) store.removeItem(keyOf("reply", ticket));
  else store.setItem(keyOf("reply", ticket), JSON.stringify(d));
}

/** After a send succeeded: the next draft gets a new key. */
export function clearReply(store: KV, ticket: number): ReplyDraft {
  store.removeItem(keyOf("reply", ticket));
  return { text: "", cc: "", status: "", key: newKey() };
}

export function loadNote(store: KV, ticket: number): NoteDraft {
  const d = read<NoteDraft>(store, keyOf("note", ticket));
  return { text: typeof d?.text === "string" ? d.text : "" };
}

export function saveNote(store: KV, ticket: number, d: NoteDraft): void {
  if (!d.text) store.removeItem(keyOf("note", ticket));
  else store.setItem(keyOf("note", ticket), JSON.stringify(d));
}

/** "a@x.org, b@y.org; c@z.org" → the list of addresses. */
export function parseCc(cc: string): string[] {
  return cc
    .split(/[,;\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}
