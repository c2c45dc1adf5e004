// The expert view: inbox (left), activity with emails and the composer (middle), ticket
// information, customer and notes (right).
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, call, download, type Schemas } from "../api/client";
import { renderActivity, formatTime, type Activity } from "../activity";
import { emailSrcdoc, inlineCids } from "../emailFrame";
import { usePoll } from "../hooks";
import { linkClick, navigate, useLocation } from "../router";
import { assigneeLabel, Badge, ErrorNotice, useDirectory } from "../ui";
import { formatQuery, parseQuery } from "../urlstate";
import { Filters, useTicketList } from "./TicketList";
import { useKeys } from "./Shortcuts";
import { Composer } from "./Composer";
import { TicketInfo } from "./TicketInfo";
import { Dialog } from "./Dialog";
import { ForwardDialog, MergeDialog } from "./TicketActions";
import { allPages } from "../paging";

type Ticket = Schemas["Ticket"];
type Mail = Schemas["MailMessage"];
type Note = Schemas["Note"];

export type TicketData = { ticket: Ticket; activity: Activity[]; mails: Mail[]; notes: Note[] };

export async function loadTicket(id: number): Promise<TicketData> {
  const path = { id };
  const [ticket, activity, mails, notes] = await Promise.all([
    call(api.GET("/tickets/{id}", { params: { path } })),
    allPages((cursor) => call(api.GET("/tickets/{id}/activity", { params: { path, query: cursor ? { cursor } : {} } }))),
    allPages((cursor) => call(api.GET("/tickets/{id}/messages", { params: { path, query: cursor ? { cursor } : {} } }))),
    allPages((cursor) => call(api.GET("/tickets/{id}/notes", { params: { path, query: cursor ? { cursor } : {} } }))),
  ]);
  return { ticket, activity, mails, notes };
}

export function Expert({ number }: { number: number }) {
  const { search } = useLocation();
  const q = parseQuery(search);
  const [data, setData] = useState<TicketData | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [session, setSession] = useState(false);
  const [merging, setMerging] = useState(false);
  // The mail being forwarded (null: a new mail to a third party); undefined: no dialog.
  const [forwarding, setForwarding] = useState<Mail | null | undefined>(undefined);
  // Entries that arrived with a live refresh (not with the first load) are marked as new.
  const seen = useRef<{ ticket: number; ids: Set<string> } | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const refresh = async () => {
    try {
      const d = await loadTicket(number);
      const known = seen.current?.ticket === number ? seen.current.ids : null;
      const ids = [...d.activity.map((e) => e.id), ...d.mails.map((m) => m.id)];
      setFresh(known ? new Set(ids.filter((id) => !known.has(id))) : new Set());
      seen.current = { ticket: number, ids: new Set(ids) };
      setData(d);
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => setData(null), [number]);
  usePoll(refresh, 10_000, [number]);
  useKeys({
    r: () => document.getElementById("reply-text")?.focus(),
    n: () => document.getElementById("note-text")?.focus(),
  });
  const gone = error instanceof ApiError && (error.kind === "not_found" || error.kind === "forbidden");
  return (
    <div class="expert">
      <Inbox current={number} />
      <section class="activity-col" aria-label="Activity">
        {gone ? (
          <div class="notice notice-error" role="alert">
            Ticket #{number} does not exist or you may not see it.{" "}
            <a href={`/app/tickets${formatQuery(q)}`} onClick={linkClick}>
              Back to the list
            </a>
          </div>
        ) : (
          <ErrorNotice error={error} onRetry={refresh} />
        )}
        {data && (
          <>
            <div class="toolbar">
              <h1>
                #{data.ticket.number} {data.ticket.name}
              </h1>
              {data.ticket.merged_into == null && (
                <>
                  <button type="button" onClick={() => setSession(true)}>
                    Create session
                  </button>
                  <button type="button" onClick={() => setForwarding(null)}>
                    Email a third party
                  </button>
                  <button type="button" onClick={() => setMerging(true)}>
                    Merge…
                  </button>
                </>
              )}
            </div>
            {data.ticket.merged_into != null && (
              <div class="notice" role="status">
                This ticket was merged into{" "}
                <a href={`/app/tickets/${data.ticket.merged_into}`} onClick={linkClick}>
                  #{data.ticket.merged_into}
                </a>
                ; its conversation continues there.
              </div>
            )}
            <Timeline data={data} fresh={fresh} onForward={data.ticket.merged_into == null ? setForwarding : undefined} />
            {data.ticket.merged_into == null && <Composer ticket={data.ticket} onSent={refresh} />}
          </>
        )}
        {!data && !error && <p>Loading ticket…</p>}
      </section>
      {data && <TicketInfo data={data} onChanged={refresh} />}
      {session && data && <CreateSession ticket={data.ticket} onClose={() => setSession(false)} onDone={refresh} />}
      {merging && data && <MergeDialog ticket={data.ticket} onClose={() => setMerging(false)} />}
      {forwarding !== undefined && data && <ForwardDialog ticket={data.ticket} mail={forwarding} onClose={() => setForwarding(undefined)} onDone={refresh} />}
    </div>
  );
}

function Inbox({ current }: { current: number }) {
  const { search } = useLocation();
  const q = parseQuery(search);
  const dir = useDirectory();
  const { items, next, error, more, reload, changed } = useTicketList(q, search);
  const go = (nq: typeof q) => navigate(`/app/tickets/${current}${formatQuery(nq)}`);
  const idx = items?.findIndex((t) => t.number === current) ?? -1;
  const move = (d: number) => {
    const t = items?.[idx + d];
    if (t) navigate(`/app/tickets/${t.number}${formatQuery(q)}`);
  };
  useKeys({ j: () => move(1), k: () => move(-1) });
  return (
    <nav class="inbox" aria-label="Inbox">
      <a class="back" href={`/app/tickets${formatQuery(q)}`} onClick={linkClick}>
        ← List
      </a>
      <Filters q={q} go={go} compact />
      <ErrorNotice error={error} onRetry={reload} />
      <ul>
        {items?.map((t) => (
          <li key={t.number} class={`${t.number === current ? "current" : ""} ${changed.has(t.number) ? "changed" : ""}`}>
            <a href={`/app/tickets/${t.number}${formatQuery(q)}`} onClick={linkClick} aria-current={t.number === current ? "page" : undefined}>
              <span class="inbox-name">
                #{t.number} {t.name}
              </span>
              <span class="inbox-meta">
                <Badge kind="status" value={t.status} /> {t.customer.name || t.customer.email} · {assigneeLabel(t.assignee, dir)}
              </span>
            </a>
          </li>
        ))}
      </ul>
      {next && (
        <button type="button" onClick={() => void more()}>
          More
        </button>
      )}
    </nav>
  );
}

function Timeline({ data, fresh, onForward }: { data: TicketData; fresh: Set<string>; onForward?: (m: Mail) => void }) {
  const dir = useDirectory();
  const names = { user: dir.userName, group: dir.groupName };
  const byRfc = new Map<string, Mail>();
  for (const m of data.mails) {
    byRfc.set(m.id, m);
    if (m.rfc_message_id) byRfc.set(m.rfc_message_id, m);
  }
  const shown = new Set<string>();
  // A merged ticket's own "merged into" entry says nothing new on its target.
  const entries = data.activity.filter((e) => !(e.kind === "merged_into" && e.ticket !== data.ticket.number));
  const rows = entries.map((e) => {
    const r = renderActivity(e, names);
    const mail = r.messageId ? byRfc.get(r.messageId) : undefined;
    if (mail) shown.add(mail.id);
    return { e, r, mail };
  });
  const loose = data.mails.filter((m) => !shown.has(m.id));
  return (
    <ol class="timeline">
      {rows.map(({ e, r, mail }) => (
        <li key={e.id} class={`entry entry-${e.kind} ${fresh.has(e.id) ? "fresh" : ""}`}>
          <div class="entry-head">
            {fresh.has(e.id) && <span class="new-tag">new</span>}
            <strong>{r.title}</strong> <time dateTime={e.at}>{formatTime(e.at)}</time>
            {e.ticket !== data.ticket.number && <span class="hint"> · on #{e.ticket}</span>}
          </div>
          {r.lines.map((l, i) => (
            <p key={i} class="entry-line">
              {l}
            </p>
          ))}
          {r.link && <CopyLink link={r.link} />}
          {mail && <MailCard mail={mail} onForward={onForward} />}
        </li>
      ))}
      {loose.map((m) => (
        <li key={m.id} class={`entry entry-mail ${fresh.has(m.id) ? "fresh" : ""}`}>
          <div class="entry-head">
            {fresh.has(m.id) && <span class="new-tag">new</span>}
            <strong>
              {m.direction === "inbound" ? `Email from ${m.from}` : `Email to ${m.to.join(", ")}`}: {m.subject}
            </strong>{" "}
            <time dateTime={m.received_at}>{formatTime(m.received_at)}</time>
          </div>
          <MailCard mail={m} onForward={onForward} />
        </li>
      ))}
    </ol>
  );
}

function CopyLink({ link }: { link: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <p class="copy-link">
      <input readOnly value={link} aria-label="Join link" size={48} onFocus={(e) => e.currentTarget.select()} />
      <button
        type="button"
        onClick={() =>
          void navigator.clipboard?.writeText(link).then(
            () => setCopied(true),
            () => setCopied(false),
          )
        }
      >
        {copied ? "Copied" : "Copy link"}
      </button>
    </p>
  );
}

/**
 * One email: sanitised HTML only inside a sandboxed frame that runs no script, text as fallback.
 * Its downloads go to its own ticket (one merged into this one keeps its mail).
 */
export function MailCard({ mail: m, onForward }: { mail: Mail; onForward?: ((m: Mail) => void) | undefined }) {
  const ticket = m.ticket;
  const [asText, setAsText] = useState(!m.html);
  const [error, setError] = useState<unknown>(null);
  const path = { id: ticket, messageId: m.id };
  const inlineImages = useInlineImages(ticket, m);
  const save = (p: Promise<void>) => p.catch(setError);
  return (
    <div class={`mail mail-${m.direction}`}>
      <p class="mail-head">
        {m.from_name ? `${m.from_name} <${m.from}>` : m.from} → {m.to.join(", ")}
        {m.cc.length ? ` · cc ${m.cc.join(", ")}` : ""}
        {m.send_state ? ` · ${m.send_state}` : ""}
        {m.spam ? " · marked as spam" : ""}
        {m.third_party ? " · third party" : ""}
      </p>
      {m.html && (
        <button type="button" class="link" onClick={() => setAsText(!asText)}>
          {asText ? "Show formatted" : "Show plain text"}
        </button>
      )}
      {asText || !m.html ? (
        <pre class="mail-text">{m.text}</pre>
      ) : inlineImages === null ? (
        <p class="hint">Loading the inline images…</p>
      ) : (
        <iframe class="mail-html" sandbox="" referrerpolicy="no-referrer" title={`Email: ${m.subject}`} srcdoc={emailSrcdoc(inlineCids(m.html, inlineImages))} />
      )}
      {m.truncated && <p class="hint">This mail was shortened; download the raw message for all of it.</p>}
      <div class="attachments">
        {m.attachments.map((a) => (
          <button
            key={a.index}
            type="button"
            onClick={() =>
              void save(download(api.GET("/tickets/{id}/messages/{messageId}/attachments/{index}", { params: { path: { ...path, index: a.index } }, parseAs: "blob" }), a.filename || `attachment-${a.index}`))
            }
          >
            📎 {a.filename || `attachment ${a.index}`} ({Math.ceil(a.size / 1024)} KB)
          </button>
        ))}
        {onForward && (
          <button type="button" onClick={() => onForward(m)}>
            Forward
          </button>
        )}
        {m.direction === "inbound" && (
          <button type="button" onClick={() => void save(download(api.GET("/tickets/{id}/messages/{messageId}/raw", { params: { path }, parseAs: "blob" }), `message-${ticket}.eml`))}>
            Download raw message
          </button>
        )}
      </div>
      <ErrorNotice error={error} />
    </div>
  );
}

const INLINE_MAX_BYTES = 2 * 1024 * 1024;
const NO_IMAGES = new Map<string, string>();

/**
 * The mail's inline images (parts with a Content-ID the HTML refers to), as data: URLs by cid;
 * null while they load, so the frame never tries the unresolvable cid: URLs.
 */
function useInlineImages(ticket: number, m: Mail): Map<string, string> | null {
  const [loaded, setLoaded] = useState<{ key: string; urls: Map<string, string> } | null>(null);
  const wanted = m.html
    ? m.attachments.filter((a) => a.content_id && a.content_type.startsWith("image/") && a.size <= INLINE_MAX_BYTES && m.html!.toLowerCase().includes(`cid:${a.content_id.toLowerCase()}`))
    : [];
  const key = wanted.map((a) => a.index).join(",");
  useEffect(() => {
    if (!key) return;
    let live = true;
    void (async () => {
      const out = new Map<string, string>();
      for (const a of wanted) {
        try {
          const blob = (await call(api.GET("/tickets/{id}/messages/{messageId}/attachments/{index}", { params: { path: { id: ticket, messageId: m.id, index: a.index } }, parseAs: "blob" }))) as Blob;
          const url = await new Promise<string>((ok, fail) => {
            const r = new FileReader();
            r.onload = () => ok(String(r.result));
            r.onerror = () => fail(r.error);
            r.readAsDataURL(blob);
          });
          if (url.startsWith("data:image/")) out.set(a.content_id!.toLowerCase(), url);
        } catch {
          /* the image stays a broken cid: reference */
        }
      }
      if (live) setLoaded({ key: `${m.id}:${key}`, urls: out });
    })();
    return () => void (live = false);
  }, [ticket, m.id, key]);
  if (!key) return NO_IMAGES;
  return loaded?.key === `${m.id}:${key}` ? loaded.urls : null;
}

function CreateSession({ ticket, onClose, onDone }: { ticket: Ticket; onClose: () => void; onDone: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<Schemas["CreatedServiceCase"] | null>(null);
  const busy = useRef(false);
  const create = async (email: boolean) => {
    if (busy.current) return;
    busy.current = true;
    try {
      const c = await call(api.POST("/tickets/{id}/sessions", { params: { path: { id: ticket.number } }, body: { email_customer: email } }));
      setCreated(c);
      onDone();
    } catch (e) {
      setError(e);
    }
    busy.current = false;
  };
  return (
    <Dialog title="Create session" onClose={onClose}>
      {created ? (
        <>
          <p>
            Session <strong>{created.code}</strong> is ready. It is in the Service Queue.
          </p>
          <CopyLink link={created.join_link} />
          <div class="buttons">
            <a href="/app/queue" onClick={(e) => (onClose(), linkClick(e))}>
              Open the Service Queue
            </a>
            <button type="button" onClick={onClose}>
              Close
            </button>
          </div>
        </>
      ) : (
        <>
          <p>Email the join link to the customer ({ticket.customer.email}) now?</p>
          <ErrorNotice error={error} />
          <div class="buttons">
            <button type="button" class="primary" onClick={() => void create(true)}>
              Create and email the link
            </button>
            <button type="button" onClick={() => void create(false)}>
              Create without email
            </button>
            <button type="button" onClick={onClose}>
              Cancel
            </button>
          </div>
        </>
      )}
    </Dialog>
  );
}
