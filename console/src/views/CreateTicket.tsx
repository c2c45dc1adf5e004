import { useState } from "preact/hooks";
import { api, call, type Schemas } from "../api/client";
import { ErrorNotice, Options } from "../ui";
import { PRIORITIES } from "../urlstate";
import { Dialog } from "./Dialog";
import { AssigneeSelect, assigneeInput } from "./AssigneeSelect";

export function CreateTicket({ onClose, onCreated }: { onClose: () => void; onCreated: (n: number) => void }) {
  const [error, setError] = useState<unknown>(null);
  const [assignee, setAssignee] = useState("none");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const s = (k: string) => String(f.get(k) ?? "").trim();
    setBusy(true);
    try {
      const t = await call(
        api.POST("/tickets", {
          body: {
            name: s("name"),
            description: s("description") || null,
            priority: (s("priority") || "medium") as Schemas["Priority"],
            assignee: assigneeInput(assignee),
            tags: s("tags") ? s("tags").split(",").map((x) => x.trim()).filter(Boolean) : null,
            customer: { email: s("email"), name: s("customer_name") || null, phone: s("phone") || null },
          },
        }),
      );
      onCreated(t.number);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Dialog title="New ticket" onClose={onClose}>
      <form class="form" onSubmit={submit}>
        <label>
          Name <input name="name" required maxLength={200} />
        </label>
        <label>
          Customer email <input name="email" type="email" required />
        </label>
        <label>
          Customer name <input name="customer_name" />
        </label>
        <label>
          Customer phone <input name="phone" />
        </label>
        <label>
          Description <textarea name="description" rows={4} />
        </label>
        <label>
          Priority{" "}
          <select name="priority" defaultValue="medium">
            <Options values={PRIORITIES} />
          </select>
        </label>
        <AssigneeSelect label="Assignee" value={assignee} onChange={setAssignee} />
        <label>
          Tags (comma separated) <input name="tags" />
        </label>
        <ErrorNotice error={error} />
        <div class="buttons">
          <button type="submit" class="primary" disabled={busy}>
            Create ticket
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
