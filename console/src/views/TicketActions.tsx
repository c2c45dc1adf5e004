// Ticket actions beside the composer: forward mail to a third party, merge a duplicate.
import { useRef, useState } from "preact/hooks";
import { api, call, type Schemas } from "../api/client";
import { parseCc } from "../drafts";
import { navigate } from "../router";
import { ErrorNotice, Options } from "../ui";
import { STATUSES } from "../urlstate";
import { Dialog } from "./Dialog";

type Ticket = Schemas["Ticket"];
type Mail = Schemas["MailMessage"];

/**
 * Forward a message of the ticket (or write a new mail) to third parties. Their answer comes back
 * to this ticket through its signed Reply-To. One Idempotency-Key per dialog: a double click or a
 * retry sends one mail.
 */
export function ForwardDialog({ ticket, mail, onClose, onDone }: { ticket: Ticket; mail: Mail | null; onClose: () => void; onDone: () => void }) {
  const [to, setTo] = useState("");
  const [cc, setCc] = useState("");
  const [text, setText] = useState("");
  const [status, setStatus] = useState("");
  const [error, setError] = useState<unknown>(null);
  const key = useRef(crypto.randomUUID());
  const busy = useRef(false);
  const send = async (e: Event) => {
    e.preventDefault();
    if (busy.current) return;
    busy.current = true;
    setError(null);
    try {
      await call(
        api.POST("/tickets/{id}/forwards", {
          params: { path: { id: ticket.number }, header: { "Idempotency-Key": key.current } },
          body: { to: parseCc(to), cc: parseCc(cc), text, message: mail?.id ?? null, status: (status || null) as Schemas["Status"] | null },
        }),
      );
      onDone();
      onClose();
    } catch (err) {
      setError(err);
    }
    busy.current = false;
  };
  return (
    <Dialog title={mail ? "Forward email" : "Email a third party"} onClose={onClose}>
      <form aria-label="Forward" onSubmit={(e) => void send(e)}>
        {mail && (
          <p class="hint">
            Forwarding “{mail.subject}” from {mail.from}, in full below your text.
          </p>
        )}
        <label>
          To <input id="forward-to" required value={to} placeholder="orders@supplier.example" onInput={(e) => setTo(e.currentTarget.value)} />
        </label>
        <label>
          Cc <input id="forward-cc" value={cc} onInput={(e) => setCc(e.currentTarget.value)} />
        </label>
        <label for="forward-text">Text (Markdown)</label>
        <textarea id="forward-text" rows={5} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <label>
          Status after sending{" "}
          <select id="forward-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <Options values={STATUSES} empty="unchanged" />
          </select>
        </label>
        <p class="hint">Their answer comes back to this ticket and is marked as a third party's.</p>
        <ErrorNotice error={error} />
        <div class="buttons">
          <button type="submit" class="primary" disabled={!to.trim() || (!text.trim() && !mail)}>
            Send
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Merge this ticket (a duplicate) into another; the conversation then reads there. */
export function MergeDialog({ ticket, onClose }: { ticket: Ticket; onClose: () => void }) {
  const [into, setInto] = useState("");
  const [error, setError] = useState<unknown>(null);
  const busy = useRef(false);
  const merge = async (e: Event) => {
    e.preventDefault();
    if (busy.current) return;
    busy.current = true;
    setError(null);
    try {
      const target = Number(into.replace(/^#/, ""));
      const merged = await call(api.POST("/tickets/{id}/merge", { params: { path: { id: ticket.number } }, body: { into: target } }));
      onClose();
      navigate(`/app/tickets/${merged.target.number}`);
    } catch (err) {
      setError(err);
    }
    busy.current = false;
  };
  return (
    <Dialog title="Merge ticket" onClose={onClose}>
      <form aria-label="Merge" onSubmit={(e) => void merge(e)}>
        <p>
          Merge #{ticket.number} into another ticket: its messages, notes and activity are then shown there, mail to it lands there, and #{ticket.number} is closed. This
          cannot be undone.
        </p>
        <label>
          Into ticket <input id="merge-into" required inputMode="numeric" pattern="#?[0-9]+" value={into} placeholder="1001" onInput={(e) => setInto(e.currentTarget.value)} />
        </label>
        <ErrorNotice error={error} />
        <div class="buttons">
          <button type="submit" class="primary" disabled={!/^#?[0-9]+$/.test(into.trim())}>
            Merge
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
