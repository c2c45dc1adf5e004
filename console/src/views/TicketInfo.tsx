// The right column: ticket information, tags and customer, editable in place; the notes.
// Every edit carries the version it read; a 409 shows what the other person changed and offers
// to re-apply this agent's change on top. Nothing is overwritten silently.
import { linkClick } from "../router";
import { useState } from "preact/hooks";
import { ApiError, api, call, type Schemas } from "../api/client";
import { formatTime, formatValue } from "../activity";
import { theirChanges, myChanges, overlaps, type Patch } from "../conflict";
import { ErrorNotice, useDirectory, Options } from "../ui";
import { PRIORITIES, STATUSES } from "../urlstate";
import { AssigneeSelect, assigneeInput, assigneeValue } from "./AssigneeSelect";
import type { TicketData } from "./Expert";

type Ticket = Schemas["Ticket"];
type Conflict = { base: Ticket; current: Ticket; patch: Patch; by: string | null };

export function TicketInfo({ data, onChanged }: { data: TicketData; onChanged: () => void }) {
  const t = data.ticket;
  const dir = useDirectory();
  const names = { user: dir.userName, group: dir.groupName };
  const [error, setError] = useState<unknown>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  const patch = async (p: Patch, base: Ticket = t) => {
    setError(null);
    setSaved(null);
    try {
      await call(api.PATCH("/tickets/{id}", { params: { path: { id: base.number } }, body: { version: base.version, ...p } }));
      setConflict(null);
      setSaved("Saved.");
      onChanged();
    } catch (e) {
      if (e instanceof ApiError && e.kind === "conflict") {
        const current = await call(api.GET("/tickets/{id}", { params: { path: { id: base.number } } }));
        const act = await call(api.GET("/tickets/{id}/activity", { params: { path: { id: base.number } } })).catch(() => null);
        const last = act?.items.filter((a) => a.kind === "fields_changed").pop();
        setConflict({ base, current, patch: p, by: last && last.actor.type === "user" ? dir.userName(last.actor.id) : null });
        onChanged();
      } else setError(e);
    }
  };

  return (
    <aside class="info-col" aria-label="Ticket information">
      {conflict && (
        <div class="notice notice-conflict" role="alert">
          <p>
            <strong>{conflict.by ?? "Someone"} changed this ticket while you were editing.</strong> Your change was not saved.
          </p>
          <p>Their change:</p>
          <ul>
            {theirChanges(conflict.base, conflict.current).map((d) => (
              <li key={d.field}>
                {d.field}: {formatValue(d.field, d.from, names)} → {formatValue(d.field, d.to, names)}
              </li>
            ))}
          </ul>
          <p>Your change:</p>
          <ul>
            {myChanges(conflict.patch).map((d) => (
              <li key={d.field}>
                {d.field}: {formatValue(d.field, d.to, names)}
              </li>
            ))}
          </ul>
          {overlaps(conflict.base, conflict.current, conflict.patch).length > 0 && <p>Re-applying replaces their value of {overlaps(conflict.base, conflict.current, conflict.patch).join(", ")}.</p>}
          <div class="buttons">
            <button type="button" class="primary" onClick={() => void patch(conflict.patch, conflict.current)}>
              Re-apply my change
            </button>
            <button type="button" onClick={() => setConflict(null)}>
              Keep theirs
            </button>
          </div>
        </div>
      )}
      <ErrorNotice error={error} />
      {saved && (
        <p role="status" class="ok">
          {saved}
        </p>
      )}
      <h2>Ticket</h2>
      <div class="fields">
        <label>
          Status{" "}
          <select id="field-status" value={t.status} onChange={(e) => void patch({ status: e.currentTarget.value as Ticket["status"] })}>
            <Options values={STATUSES} />
          </select>
        </label>
        <label>
          Priority{" "}
          <select id="field-priority" value={t.priority} onChange={(e) => void patch({ priority: e.currentTarget.value as Ticket["priority"] })}>
            <Options values={PRIORITIES} />
          </select>
        </label>
        <AssigneeSelect id="field-assignee" label="Assignee" value={assigneeValue(t.assignee)} onChange={(v) => void patch({ assignee: assigneeInput(v) })} />
        <EditText label="Name" id="field-name" value={t.name} onSave={(v) => patch({ name: v })} />
        <EditText label="Description" id="field-description" value={t.description} multiline onSave={(v) => patch({ description: v })} />
        <EditText label="Tags" id="field-tags" value={t.tags.join(", ")} onSave={(v) => patch({ tags: v.split(",").map((x) => x.trim()).filter(Boolean) })} />
      </div>
      <h2>Customer</h2>
      <div class="fields">
        <EditText label="Customer name" id="field-customer-name" value={t.customer.name} onSave={(v) => patch({ customer: { name: v } })} />
        <EditText label="Customer email" id="field-customer-email" value={t.customer.email} onSave={(v) => patch({ customer: { email: v } })} />
        <EditText label="Customer phone" id="field-customer-phone" value={t.customer.phone} onSave={(v) => patch({ customer: { phone: v } })} />
      </div>
      {t.participants.length > 0 && (
        <p class="hint" id="participants">
          Third parties: {t.participants.join(", ")}
        </p>
      )}
      {t.merged.length > 0 && (
        <p class="hint">
          Merged here:{" "}
          {t.merged.map((n, i) => (
            <>
              {i > 0 && ", "}
              <a key={n} href={`/app/tickets/${n}`} onClick={linkClick}>
                #{n}
              </a>
            </>
          ))}
        </p>
      )}
      <p class="hint">
        Created {formatTime(t.created_at)} from {t.source} · version {t.version}
      </p>
      <h2>Notes</h2>
      {data.notes.length === 0 && <p class="hint">No notes yet.</p>}
      <ul class="notes">
        {data.notes.map((n) => (
          <li key={n.id}>
            <p class="note-body">{n.body}</p>
            <p class="hint">
              {dir.userName(n.author)} · {formatTime(n.created_at)}
            </p>
          </li>
        ))}
      </ul>
    </aside>
  );
}

/** Shows a value; "Edit" turns it into a field, Enter or Save stores it, Esc cancels. */
function EditText(props: { label: string; id: string; value: string; multiline?: boolean; onSave: (v: string) => Promise<void> }) {
  const [editing, setEditing] = useState<string | null>(null);
  const save = async () => {
    if (editing === null) return;
    const v = editing.trim();
    setEditing(null);
    if (v !== props.value) await props.onSave(v);
  };
  if (editing === null)
    return (
      <div class="edit-text">
        <span class="edit-label" id={`${props.id}-label`}>
          {props.label}
        </span>
        <span class="edit-value">{props.value || "—"}</span>
        <button type="button" class="link" aria-label={`Edit ${props.label.toLowerCase()}`} onClick={() => setEditing(props.value)}>
          Edit
        </button>
      </div>
    );
  const common = {
    id: props.id,
    value: editing,
    onInput: (e: Event) => setEditing((e.currentTarget as HTMLInputElement).value),
    onKeyDown: (e: KeyboardEvent) => {
      if (e.key === "Escape") setEditing(null);
      if (e.key === "Enter" && !props.multiline) {
        e.preventDefault();
        void save();
      }
    },
    autoFocus: true,
  };
  return (
    <div class="edit-text editing">
      <label for={props.id}>{props.label}</label>
      {props.multiline ? <textarea rows={4} {...common} /> : <input {...common} />}
      <button type="button" onClick={() => void save()}>
        Save
      </button>
      <button type="button" onClick={() => setEditing(null)}>
        Cancel
      </button>
    </div>
  );
}
