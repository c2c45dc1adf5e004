// Admin: text modules (canned answers agents insert into replies, with placeholders) and the
// desk's signature below every reply.
import { useEffect, useState } from "preact/hooks";
import { api, call, type Schemas } from "../api/client";
import { formatTime } from "../activity";
import { useList } from "./useList";

type TextModule = Schemas["TextModule"];

export const PLACEHOLDERS = [
  "customer.name",
  "customer.first_name",
  "customer.email",
  "ticket.number",
  "ticket.name",
  "agent.name",
  "agent.first_name",
  "agent.email",
];

/** The text modules, loaded once (an empty list if they cannot be read: nothing depends on them). */
export function useTextModules(): TextModule[] {
  const [modules, setModules] = useState<TextModule[]>([]);
  useEffect(() => {
    call(api.GET("/text-modules"))
      .then((r) => setModules(r.items))
      .catch(() => setModules([]));
  }, []);
  return modules;
}

/** <option>s naming each module, after an empty choice. */
export function ModuleOptions({ modules, empty }: { modules: TextModule[]; empty: string }) {
  return (
    <>
      <option value="">{empty}</option>
      {modules.map((m) => (
        <option key={m.id} value={m.id}>
          {m.name}
        </option>
      ))}
    </>
  );
}

export function PlaceholderHint() {
  return (
    <p class="hint">
      Markdown (**bold**, *italic*, lists, [links](https://example.org)). Placeholders:{" "}
      {PLACEHOLDERS.map((p) => (
        <code key={p}>{`{{${p}}}`} </code>
      ))}
    </p>
  );
}

export function TextModules() {
  const { items, run, status } = useList(async () => (await call(api.GET("/text-modules"))).items);
  const [editing, setEditing] = useState<TextModule | "new" | null>(null);
  const m = editing && editing !== "new" ? editing : null;
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const name = String(f.get("name") ?? "").trim();
    const text = String(f.get("text") ?? "");
    void run(async () => {
      if (m) await call(api.PUT("/text-modules/{textModuleId}", { params: { path: { textModuleId: m.id } }, body: { version: m.version, name, text } }));
      else await call(api.POST("/text-modules", { body: { name, text } }));
      setEditing(null);
      return `Saved text module ${name}.`;
    });
  };
  return (
    <>
      <div class="toolbar">
        <h1>Text modules</h1>
        <button type="button" class="primary" onClick={() => setEditing("new")}>
          Add text module
        </button>
      </div>
      {status}
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Text</th>
            <th scope="col">Updated</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items?.map((t) => (
            <tr key={t.id}>
              <td>{t.name}</td>
              <td class="excerpt">{t.text.length > 120 ? `${t.text.slice(0, 120)}…` : t.text}</td>
              <td>{formatTime(t.updated_at)}</td>
              <td>
                <button type="button" onClick={() => setEditing(t)}>
                  Edit
                </button>
                <button type="button" class="danger" onClick={() => window.confirm(`Delete text module ${t.name}?`) && void run(async () => (await call(api.DELETE("/text-modules/{textModuleId}", { params: { path: { textModuleId: t.id } } })), `Deleted ${t.name}.`))}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {items?.length === 0 && <p class="hint">No text modules yet.</p>}
      {editing && (
        <form class="form" onSubmit={submit} aria-label="Text module" key={m?.id ?? "new"}>
          <h2>{m ? `Edit ${m.name}` : "Add text module"}</h2>
          <label>
            Name <input name="name" required defaultValue={m?.name} />
          </label>
          <label>
            Text <textarea name="text" id="module-text" rows={8} required defaultValue={m?.text} />
          </label>
          <PlaceholderHint />
          <div class="buttons">
            <button type="submit" class="primary">
              Save text module
            </button>
            <button type="button" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <DeskSignature />
    </>
  );
}

function DeskSignature() {
  const { items, run, status } = useList(async () => [await call(api.GET("/settings/signature"))]);
  const current = items?.[0];
  const submit = (e: Event) => {
    e.preventDefault();
    const text = String(new FormData(e.currentTarget as HTMLFormElement).get("text") ?? "");
    void run(async () => {
      await call(api.PUT("/settings/signature", { body: { version: current?.version ?? 0, text } }));
      return "Saved the desk's signature.";
    });
  };
  return (
    <form class="form" onSubmit={submit} aria-label="Desk signature" key={current?.version ?? -1}>
      <h2>Desk signature</h2>
      <p class="hint">Below every reply, after the agent's own signature.</p>
      {status}
      <label>
        Signature <textarea name="text" id="desk-signature" rows={3} defaultValue={current?.text ?? ""} />
      </label>
      <PlaceholderHint />
      <div class="buttons">
        <button type="submit" class="primary" disabled={!current}>
          Save desk signature
        </button>
      </div>
    </form>
  );
}
