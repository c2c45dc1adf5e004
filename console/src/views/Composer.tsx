// Reply by email and add a note. Drafts live in localStorage (not secrets) from the first
// keystroke, so a reload or a sign-in round trip loses nothing; a reply's Idempotency-Key is made
// with its draft and kept until the send succeeds, so a double click or a retry sends one mail.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, call, type Schemas } from "../api/client";
import { onBeforeSignIn } from "../auth";
import { clearReply, loadNote, loadReply, parseCc, saveNote, saveReply, type ReplyDraft } from "../drafts";
import { ErrorNotice, Options, useDirectory } from "../ui";
import { ModuleOptions, PlaceholderHint, useTextModules } from "./AdminTexts";
import { STATUSES } from "../urlstate";

export function Composer({ ticket, onSent }: { ticket: Schemas["Ticket"]; onSent: () => void }) {
  const n = ticket.number;
  const [reply, setReply] = useState<ReplyDraft>(() => loadReply(localStorage, n));
  const [note, setNote] = useState(() => loadNote(localStorage, n).text);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const sending = useRef(false);
  const [busy, setBusy] = useState(false);
  const latest = useRef({ reply, note });
  latest.current = { reply, note };
  const modules = useTextModules();

  useEffect(() => {
    setReply(loadReply(localStorage, n));
    setNote(loadNote(localStorage, n).text);
    setError(null);
    setDone(null);
  }, [n]);
  useEffect(
    () =>
      onBeforeSignIn(() => {
        saveReply(localStorage, n, latest.current.reply);
        saveNote(localStorage, n, { text: latest.current.note });
      }),
    [n],
  );

  const editReply = (d: Partial<ReplyDraft>) => {
    const next = { ...reply, ...d };
    setReply(next);
    saveReply(localStorage, n, next);
  };
  const editNote = (text: string) => {
    setNote(text);
    saveNote(localStorage, n, { text });
  };

  const run = async (what: () => Promise<string>) => {
    if (sending.current) return; // a double click sends once
    sending.current = true;
    setBusy(true);
    setError(null);
    try {
      setDone(await what());
      onSent();
    } catch (e) {
      setError(e); // the draft stays
    } finally {
      sending.current = false;
      setBusy(false);
    }
  };
  const sendReply = () =>
    run(async () => {
      const d = latest.current.reply;
      await call(
        api.POST("/tickets/{id}/replies", {
          params: { path: { id: n }, header: { "Idempotency-Key": d.key } },
          body: { text: d.text, cc: parseCc(d.cc), status: (d.status || null) as Schemas["Status"] | null },
        }),
      );
      setReply(clearReply(localStorage, n));
      return "Reply sent.";
    });
  // A module is filled for this ticket and the agent by the server and inserted where the text
  // ends, so the agent can still edit it before sending.
  const insertModule = async (id: string) => {
    setError(null);
    try {
      const filled = await call(api.GET("/tickets/{id}/text-modules/{textModuleId}", { params: { path: { id: n, textModuleId: id } } }));
      const current = latest.current.reply.text.trimEnd();
      editReply({ text: current ? `${current}\n\n${filled.text}` : filled.text });
      document.getElementById("reply-text")?.focus();
    } catch (e) {
      setError(e);
    }
  };
  const addNote = () =>
    run(async () => {
      await call(api.POST("/tickets/{id}/notes", { params: { path: { id: n } }, body: { body: latest.current.note } }));
      editNote("");
      return "Note added.";
    });

  return (
    <section class="composer" aria-label="Reply or note">
      <form
        class="reply-form"
        aria-label="Reply by email"
        onSubmit={(e) => {
          e.preventDefault();
          void sendReply();
        }}
      >
        <h2>Reply by email</h2>
        <p class="hint">To {ticket.customer.email}</p>
        <label for="reply-text">Reply (r)</label>
        <textarea id="reply-text" rows={5} required value={reply.text} onInput={(e) => editReply({ text: e.currentTarget.value })} />
        <p class="hint">Markdown: **bold**, *italic*, lists, [links](https://example.org). Your signature, the desk's and the customer's last message are added below.</p>
        {modules.length > 0 && (
          <label>
            Insert text module{" "}
            <select
              id="reply-module"
              value=""
              onChange={(e) => {
                const id = e.currentTarget.value;
                e.currentTarget.value = "";
                if (id) void insertModule(id);
              }}
            >
              <ModuleOptions modules={modules} empty="choose…" />
            </select>
          </label>
        )}
        <label>
          Cc <input id="reply-cc" value={reply.cc} placeholder="a@example.org, b@example.org" onInput={(e) => editReply({ cc: e.currentTarget.value })} />
        </label>
        <label>
          Status after sending{" "}
          <select id="reply-status" value={reply.status} onChange={(e) => editReply({ status: e.currentTarget.value })}>
            <Options values={STATUSES} empty="unchanged" />
          </select>
        </label>
        <button type="submit" class="primary" disabled={busy || !reply.text.trim()}>
          Send reply
        </button>
      </form>
      <form
        class="note-form"
        aria-label="Internal note"
        onSubmit={(e) => {
          e.preventDefault();
          void addNote();
        }}
      >
        <h2>Note</h2>
        <label for="note-text">Internal note (n), never emailed</label>
        <textarea id="note-text" rows={4} required value={note} onInput={(e) => editNote(e.currentTarget.value)} />
        <button type="submit" class="primary" disabled={busy || !note.trim()}>
          Add note
        </button>
      </form>
      <OwnSignature />
      <ErrorNotice error={error} onRetry={() => void (latest.current.reply.text ? sendReply() : addNote())} />
      {done && (
        <p role="status" class="ok">
          {done}
        </p>
      )}
    </section>
  );
}


/** The agent's own signature, below each of their replies (before the desk's). */
function OwnSignature() {
  const dir = useDirectory();
  const [text, setText] = useState(dir.me.user.signature);
  const [state, setState] = useState<unknown>(null);
  const save = async (e: Event) => {
    e.preventDefault();
    setState(null);
    try {
      const user = await call(api.PUT("/me/signature", { body: { text } }));
      setText(user.signature);
      setState("saved");
    } catch (err) {
      setState(err);
    }
  };
  return (
    <details
      class="own-signature"
      onToggle={(e) => {
        // Read it fresh when opened: it may have changed in another tab or by an administrator.
        if ((e.currentTarget as HTMLDetailsElement).open)
          call(api.GET("/me"))
            .then((me) => setText(me.user.signature))
            .catch(() => undefined);
      }}
    >
      <summary>Your signature</summary>
      <form onSubmit={(e) => void save(e)} aria-label="Your signature">
        <label for="own-signature">Below your replies</label>
        <textarea id="own-signature" rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <PlaceholderHint />
        <button type="submit">Save signature</button>
        {state === "saved" ? (
          <p role="status" class="ok">
            Signature saved.
          </p>
        ) : (
          <ErrorNotice error={state} />
        )}
      </form>
    </details>
  );
}
