// The audit trail (newest first, paged, filtered by action) and a customer's data export, in
// admin settings. Administrators only; the API refuses agents anyway.
import { useEffect, useState } from "preact/hooks";
import { api, call, download, type Schemas } from "../api/client";
import { formatTime } from "../activity";
import { changeText } from "../audit";
import { firstNonEmpty } from "../paging";
import { ErrorNotice, useDirectory } from "../ui";

type Entry = Schemas["AuditEntry"];
type Action = Schemas["AuditAction"];

const ACTIONS: Action[] = [
  "user.created", "user.updated", "user.deleted",
  "group.created", "group.updated", "group.deleted",
  "rule.created", "rule.updated", "rule.deleted",
  "mailbox.created", "mailbox.updated", "mailbox.deleted",
  "module.created", "module.updated", "module.deleted",
  "text_module.created", "text_module.updated", "text_module.deleted",
  "signature.updated", "customer.exported", "customer.erased", "retention.changed",
];

export function AuditTrail() {
  const dir = useDirectory();
  const [action, setAction] = useState<Action | "">("");
  const [items, setItems] = useState<Entry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);

  const load = async (cursor: string | null, append: boolean) => {
    setLoading(true);
    try {
      const page = await firstNonEmpty(
        (c) =>
          call(
            api.GET("/audit", {
              params: { query: { limit: 50, ...(action ? { action } : {}), ...(c ? { cursor: c } : {}) } },
            }),
          ),
        cursor,
      );
      setItems((old) => (append ? [...old, ...page.items] : page.items));
      setNext(page.next);
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void load(null, false), [action]);

  const actor = (e: Entry) => (e.actor.type === "user" ? dir.userName(e.actor.id) : e.actor.type);
  return (
    <>
      <h1>Audit trail</h1>
      <ErrorNotice error={error} onRetry={() => void load(null, false)} />
      <label>
        Action{" "}
        <select value={action} onChange={(e) => setAction((e.currentTarget as HTMLSelectElement).value as Action | "")}>
          <option value="">All actions</option>
          {ACTIONS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </label>
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Changes</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.id}>
              <td>{formatTime(e.at)}</td>
              <td>{actor(e)}</td>
              <td>{e.action}</td>
              <td>{e.target}</td>
              <td>
                {e.changes.map((c) => (
                  <div key={c.field}>{changeText(c)}</div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!loading && items.length === 0 && !error && <p>No entries.</p>}
      {next && (
        <button type="button" disabled={loading} onClick={() => void load(next, true)}>
          Load more
        </button>
      )}
    </>
  );
}

export function ExportCustomer() {
  const [error, setError] = useState<unknown>(null);
  const [ok, setOk] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const customer = String(new FormData(e.currentTarget as HTMLFormElement).get("customer") ?? "").trim();
    setBusy(true);
    setOk(null);
    try {
      await download(api.POST("/exports", { body: { customer }, parseAs: "blob" }), `export-${customer}.zip`);
      setOk(`Exported ${customer}.`);
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <h1>Export a customer's data</h1>
      <p>
        Every ticket of one email address with its messages (raw and parsed), attachments, notes and activity, as one
        ZIP archive with a manifest. Recorded in the audit trail.
      </p>
      <ErrorNotice error={error} />
      {ok && (
        <p role="status" class="ok">
          {ok}
        </p>
      )}
      <form class="form inline-form" onSubmit={(e) => void submit(e)} aria-label="Export customer">
        <label>
          Customer email <input name="customer" type="email" required />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Exporting…" : "Export"}
        </button>
      </form>
    </>
  );
}
