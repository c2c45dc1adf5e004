// Admin settings (administrators only; the App hides the entries from agents and the API refuses
// them anyway): rules with a builder, reorder and dry run; users; groups; IMAP mailboxes; modules;
// text modules and the desk's signature; the audit trail and customer exports.
import { useState } from "preact/hooks";
import { api, call, type Schemas } from "../api/client";
import { formatTime } from "../activity";
import { linkClick } from "../router";
import { ErrorNotice, useDirectory, Options } from "../ui";
import { PRIORITIES, STATUSES, toggleIn } from "../urlstate";
import { AssigneeSelect, assigneeInput, assigneeValue } from "./AssigneeSelect";
import { reorder, ruleUpdate, type ConditionDraft } from "../rules";
import { ModuleOptions, TextModules, useTextModules } from "./AdminTexts";
import { AuditTrail, ExportCustomer } from "./AdminAudit";
import { useList } from "./useList";

type Rule = Schemas["Rule"];

const SECTIONS: [string, string][] = [
  ["rules", "Rules"],
  ["users", "Users"],
  ["groups", "Groups"],
  ["mailboxes", "Mailboxes"],
  ["modules", "Modules & SOS buttons"],
  ["texts", "Text modules & signature"],
  ["audit", "Audit trail"],
  ["export", "Export customer"],
];

export function Admin({ path }: { path: string }) {
  const section = path.split("/")[3] ?? "rules";
  return (
    <div class="admin">
      <nav class="admin-nav" aria-label="Admin settings">
        {SECTIONS.map(([id, label]) => (
          <a key={id} href={`/app/admin/${id}`} onClick={linkClick} aria-current={section === id ? "page" : undefined}>
            {label}
          </a>
        ))}
      </nav>
      <section class="admin-main">
        {section === "rules" && <Rules />}
        {section === "users" && <Users />}
        {section === "groups" && <Groups />}
        {section === "mailboxes" && <Mailboxes />}
        {section === "modules" && <Modules />}
        {section === "texts" && <TextModules />}
        {section === "audit" && <AuditTrail />}
        {section === "export" && <ExportCustomer />}
      </section>
    </div>
  );
}

// ---- rules ---------------------------------------------------------------------------------

function Rules() {
  const { items, run, status } = useList(async () => (await call(api.GET("/rules"))).items.sort((a, b) => a.position - b.position || a.id.localeCompare(b.id)));
  const [editing, setEditing] = useState<Rule | "new" | null>(null);
  const move = (rule: Rule, to: number) =>
    run(async () => {
      for (const [r, position] of reorder(items ?? [], rule.id, to)) {
        await call(api.PUT("/rules/{id}", { params: { path: { id: r.id } }, body: { ...ruleUpdate(r), position } }));
      }
      return `Moved “${rule.name}”.`;
    });
  const ordinary = items?.filter((r) => !r.is_default) ?? [];
  return (
    <>
      <div class="toolbar">
        <h1>Rules</h1>
        <button type="button" class="primary" onClick={() => setEditing("new")}>
          New rule
        </button>
      </div>
      <p class="hint">The first enabled rule that matches an incoming email applies; else the default rule.</p>
      {status}
      {editing && <RuleEditor rule={editing === "new" ? null : editing} onDone={(msg) => (setEditing(null), msg && void run(async () => msg))} />}
      <ol class="rules">
        {items?.map((r) => {
          const i = ordinary.indexOf(r);
          return (
            <li key={r.id} class={`rule ${r.enabled ? "" : "disabled"}`} data-rule={r.name}>
              <span class="rule-name">
                {r.is_default ? "Default rule" : r.name} {r.enabled ? "" : "(disabled)"}
              </span>
              <span class="hint">
                {r.is_default ? "applies when no other rule matches" : `${r.match_mode === "all" ? "all" : "any"} of ${r.conditions.length} condition(s)`} → {actionsSummary(r.actions)}
              </span>
              <span class="buttons">
                {!r.is_default && (
                  <>
                    <button type="button" disabled={i === 0} aria-label={`Move ${r.name} first`} onClick={() => void move(r, 0)}>
                      ⇈ First
                    </button>
                    <button type="button" disabled={i === 0} aria-label={`Move ${r.name} up`} onClick={() => void move(r, i - 1)}>
                      ↑
                    </button>
                    <button type="button" disabled={i === ordinary.length - 1} aria-label={`Move ${r.name} down`} onClick={() => void move(r, i + 1)}>
                      ↓
                    </button>
                  </>
                )}
                <button type="button" onClick={() => setEditing(r)}>
                  Edit
                </button>
                {!r.is_default && (
                  <button
                    type="button"
                    class="danger"
                    onClick={() => window.confirm(`Delete rule “${r.name}”?`) && void run(async () => (await call(api.DELETE("/rules/{id}", { params: { path: { id: r.id } } })), `Deleted “${r.name}”.`))}
                  >
                    Delete
                  </button>
                )}
              </span>
            </li>
          );
        })}
      </ol>
      <DryRun />
    </>
  );
}

function actionsSummary(a: Schemas["Actions"]): string {
  const parts = [
    a.status && `status ${a.status}`,
    a.priority && `priority ${a.priority}`,
    a.assignee && `assign ${a.assignee.type} ${a.assignee.id}`,
    a.add_tags.length > 0 && `tags ${a.add_tags.join(", ")}`,
    a.notify && "notify",
    a.acknowledge && "acknowledge the customer",
  ].filter(Boolean);
  return parts.join(", ") || "no change";
}

const FIELDS: Schemas["ConditionField"][] = ["sender", "sender_domain", "recipients", "to", "cc", "subject", "body", "header"];
const OPERATORS: Schemas["ConditionOperator"][] = ["equals", "contains", "not_contains", "starts_with", "ends_with", "matches"];

function RuleEditor({ rule, onDone }: { rule: Rule | null; onDone: (message: string | null) => void }) {
  const [name, setName] = useState(rule?.name ?? "");
  const [description, setDescription] = useState(rule?.description ?? "");
  const [enabled, setEnabled] = useState(rule?.enabled ?? true);
  const [mode, setMode] = useState<Schemas["MatchMode"]>(rule?.match_mode ?? "all");
  const [conds, setConds] = useState<ConditionDraft[]>(
    rule?.conditions.map((c) => ({ field: c.field, header_name: c.header_name ?? "", operator: c.operator, value: c.value, case_sensitive: c.case_sensitive })) ?? [
      { field: "subject", header_name: "", operator: "contains", value: "", case_sensitive: false },
    ],
  );
  const a = rule?.actions;
  const [status, setStatus] = useState<string>(a?.status ?? "");
  const [priority, setPriority] = useState<string>(a?.priority ?? "");
  const [assignee, setAssignee] = useState(a?.assignee ? assigneeValue(a.assignee) : "none");
  const [tags, setTags] = useState(a?.add_tags.join(", ") ?? "");
  const [notify, setNotify] = useState(a?.notify ?? false);
  const [acknowledge, setAcknowledge] = useState(a?.acknowledge ?? "");
  const modules = useTextModules();
  const [error, setError] = useState<unknown>(null);
  const isDefault = rule?.is_default ?? false;
  const setCond = (i: number, c: Partial<ConditionDraft>) => setConds(conds.map((x, j) => (j === i ? { ...x, ...c } : x)));
  const submit = async (e: Event) => {
    e.preventDefault();
    const body = {
      name: name.trim() || "Default",
      description: description.trim() || null,
      enabled,
      match_mode: mode,
      conditions: isDefault ? [] : conds.map((c) => ({ field: c.field, operator: c.operator, value: c.value, case_sensitive: c.case_sensitive, ...(c.field === "header" ? { header_name: c.header_name } : {}) })),
      actions: {
        status: (status || null) as Schemas["Status"] | null,
        priority: (priority || null) as Schemas["Priority"] | null,
        assignee: assigneeInput(assignee),
        add_tags: tags.split(",").map((t) => t.trim()).filter(Boolean),
        notify,
        acknowledge: acknowledge || null,
      },
    };
    try {
      if (rule) await call(api.PUT("/rules/{id}", { params: { path: { id: rule.id } }, body: { ...body, version: rule.version } }));
      else await call(api.POST("/rules", { body }));
      onDone(rule ? `Saved “${body.name}”.` : `Created “${body.name}”.`);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="form rule-editor" onSubmit={submit} aria-label={rule ? "Edit rule" : "New rule"}>
      <h2>{rule ? (isDefault ? "Default rule" : `Edit “${rule.name}”`) : "New rule"}</h2>
      {!isDefault && (
        <>
          <label>
            Name <input id="rule-name" value={name} required onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label>
            Description <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </label>
          <label class="check">
            <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} /> Enabled
          </label>
          <fieldset>
            <legend>Match</legend>
            <label class="check">
              <input type="radio" name="mode" checked={mode === "all"} onChange={() => setMode("all")} /> all conditions
            </label>
            <label class="check">
              <input type="radio" name="mode" checked={mode === "any"} onChange={() => setMode("any")} /> any condition
            </label>
          </fieldset>
          <fieldset>
            <legend>Conditions</legend>
            {conds.map((c, i) => (
              <div class="condition" key={i}>
                <label>
                  <span class="sr-only">Condition {i + 1} field</span>
                  <select value={c.field} onChange={(e) => setCond(i, { field: e.currentTarget.value as ConditionDraft["field"] })}>
                    {FIELDS.map((f) => (
                      <option key={f}>{f}</option>
                    ))}
                  </select>
                </label>
                {c.field === "header" && (
                  <label>
                    <span class="sr-only">Condition {i + 1} header name</span>
                    <input placeholder="Header-Name" value={c.header_name} onInput={(e) => setCond(i, { header_name: e.currentTarget.value })} />
                  </label>
                )}
                <label>
                  <span class="sr-only">Condition {i + 1} operator</span>
                  <select value={c.operator} onChange={(e) => setCond(i, { operator: e.currentTarget.value as ConditionDraft["operator"] })}>
                    {OPERATORS.map((o) => (
                      <option key={o}>{o}</option>
                    ))}
                  </select>
                </label>
                <label>
                  <span class="sr-only">Condition {i + 1} value</span>
                  <input class="cond-value" value={c.value} onInput={(e) => setCond(i, { value: e.currentTarget.value })} />
                </label>
                <label class="check">
                  <input type="checkbox" checked={c.case_sensitive} onChange={(e) => setCond(i, { case_sensitive: e.currentTarget.checked })} /> case sensitive
                </label>
                <button type="button" aria-label={`Remove condition ${i + 1}`} onClick={() => setConds(conds.filter((_, j) => j !== i))}>
                  ×
                </button>
              </div>
            ))}
            <button type="button" onClick={() => setConds([...conds, { field: "sender", header_name: "", operator: "equals", value: "", case_sensitive: false }])}>
              Add condition
            </button>
          </fieldset>
        </>
      )}
      <fieldset>
        <legend>Actions</legend>
        <label>
          Set status{" "}
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <Options values={STATUSES} empty="unchanged" />
          </select>
        </label>
        <label>
          Set priority{" "}
          <select id="rule-priority" value={priority} onChange={(e) => setPriority(e.currentTarget.value)}>
            <Options values={PRIORITIES} empty="unchanged" />
          </select>
        </label>
        <AssigneeSelect label="Assign to" value={assignee} onChange={setAssignee} />
        <label>
          Add tags <input value={tags} onInput={(e) => setTags(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={notify} onChange={(e) => setNotify(e.currentTarget.checked)} /> Notify the assignee
        </label>
        <label>
          Acknowledge the customer with{" "}
          <select id="rule-acknowledge" value={acknowledge} onChange={(e) => setAcknowledge(e.currentTarget.value)}>
            <ModuleOptions modules={modules} empty="no acknowledgement" />
          </select>
        </label>
      </fieldset>
      <ErrorNotice error={error} />
      <div class="buttons">
        <button type="submit" class="primary">
          Save rule
        </button>
        <button type="button" onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function DryRun() {
  const [result, setResult] = useState<Schemas["DryRun"] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const s = (k: string) => String(f.get(k) ?? "").trim();
    const list = (k: string) => s(k).split(/[,\s]+/).filter(Boolean);
    try {
      setResult(await call(api.POST("/rules/dry-run", { body: { sender: s("sender"), to: list("to"), cc: list("cc"), subject: s("subject"), body: s("body") } })));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section class="dry-run" aria-label="Dry run">
      <h2>Dry run a sample email</h2>
      <form class="form" onSubmit={submit}>
        <label>
          From <input name="sender" type="email" required defaultValue="customer@example.org" />
        </label>
        <label>
          To <input name="to" defaultValue="support@desk.example" />
        </label>
        <label>
          Cc <input name="cc" />
        </label>
        <label>
          Subject <input name="subject" id="dry-subject" />
        </label>
        <label>
          Body <textarea name="body" rows={3} />
        </label>
        <button type="submit" class="primary">
          Dry run
        </button>
      </form>
      <ErrorNotice error={error} />
      {result && (
        <div class="dry-result" role="status">
          <p>
            Hits: <strong class="dry-hit">{result.evaluation.is_default ? "the default rule" : result.evaluation.rule_name}</strong> → {actionsSummary(result.evaluation.actions)}
          </p>
          {result.conditions.length > 0 && (
            <ul>
              {result.conditions.map((c) => (
                <li key={c.index}>
                  {c.matched ? "✓" : "✗"} {c.description}
                </li>
              ))}
            </ul>
          )}
          {result.not_matched.length > 0 && <p>Earlier rules that did not apply:</p>}
          <ul>
            {result.not_matched.map((m) => (
              <li key={m.rule_id}>
                <strong>{m.rule_name}</strong>:{" "}
                {m.reason === "disabled" ? "disabled" : m.reason === "invalid" ? `invalid (${m.message})` : `no match (${m.match_mode}): ${m.conditions.map((c) => `${c.matched ? "✓" : "✗"} ${c.description}`).join("; ")}`}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

// ---- users and groups ------------------------------------------------------------------------

function Users() {
  const dir = useDirectory();
  const { items, run, status } = useList(async () => (await call(api.GET("/users"))).items);
  const create = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const s = (k: string) => String(f.get(k) ?? "").trim();
    void run(async () => {
      await call(api.POST("/users", { body: { id: s("id"), name: s("name"), email: s("email"), role: s("role") as Schemas["Role"], groups: f.getAll("groups").map(String) } }));
      form.reset();
      return `Added ${s("name")}.`;
    });
  };
  const update = (u: Schemas["User"], change: Partial<Schemas["UserUpdate"]>) =>
    run(async () => (await call(api.PUT("/users/{id}", { params: { path: { id: u.id } }, body: { name: u.name, email: u.email, role: u.role, groups: u.groups, active: u.active, ...change } })), `Saved ${u.name}.`));
  return (
    <>
      <h1>Users</h1>
      {status}
      <table>
        <thead>
          <tr>
            <th scope="col">Id</th>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Groups</th>
            <th scope="col">Active</th>
          </tr>
        </thead>
        <tbody>
          {items?.map((u) => (
            <tr key={u.id}>
              <td>{u.id}</td>
              <td>{u.name}</td>
              <td>{u.email}</td>
              <td>
                <select aria-label={`Role of ${u.name}`} value={u.role} onChange={(e) => void update(u, { role: e.currentTarget.value as Schemas["Role"] })}>
                  <option value="agent">agent</option>
                  <option value="admin">admin</option>
                </select>
              </td>
              <td>
                {dir.groups.map((g) => (
                  <label key={g.id} class="check inline-check">
                    <input type="checkbox" checked={u.groups.includes(g.id)} onChange={() => void update(u, { groups: toggleIn(u.groups, g.id) })} /> {g.name}
                  </label>
                ))}
              </td>
              <td>
                <input type="checkbox" aria-label={`${u.name} active`} checked={u.active} onChange={(e) => void update(u, { active: e.currentTarget.checked })} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="form inline-form" onSubmit={create} aria-label="Add user">
        <h2>Add user</h2>
        <label>
          Id <input name="id" required />
        </label>
        <label>
          Name <input name="name" required />
        </label>
        <label>
          Email <input name="email" type="email" required />
        </label>
        <label>
          Role{" "}
          <select name="role">
            <option value="agent">agent</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <label>
          Groups{" "}
          <select name="groups" multiple>
            {dir.groups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary">
          Add user
        </button>
      </form>
    </>
  );
}

function Groups() {
  const { items, run, status } = useList(async () => {
    const list = (await call(api.GET("/groups"))).items;
    return Promise.all(list.map((g) => call(api.GET("/groups/{id}", { params: { path: { id: g.id } } }))));
  });
  const dir = useDirectory();
  const create = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const s = (k: string) => String(f.get(k) ?? "").trim();
    void run(async () => (await call(api.POST("/groups", { body: { id: s("id"), name: s("name") } })), form.reset(), `Added group ${s("name")}.`));
  };
  return (
    <>
      <h1>Groups</h1>
      {status}
      <table>
        <thead>
          <tr>
            <th scope="col">Id</th>
            <th scope="col">Name</th>
            <th scope="col">Members</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items?.map((g) => (
            <tr key={g.id}>
              <td>{g.id}</td>
              <td>{g.name}</td>
              <td>{g.members.map(dir.userName).join(", ") || "—"}</td>
              <td>
                <button
                  type="button"
                  class="danger"
                  disabled={g.members.length > 0}
                  title={g.members.length ? "A group with members cannot be deleted" : undefined}
                  onClick={() => window.confirm(`Delete group ${g.name}?`) && void run(async () => (await call(api.DELETE("/groups/{id}", { params: { path: { id: g.id } } })), `Deleted ${g.name}.`))}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="form inline-form" onSubmit={create} aria-label="Add group">
        <h2>Add group</h2>
        <label>
          Id <input name="id" required />
        </label>
        <label>
          Name <input name="name" required />
        </label>
        <button type="submit" class="primary">
          Add group
        </button>
      </form>
    </>
  );
}

// ---- mailboxes and modules -------------------------------------------------------------------

function Mailboxes() {
  const { items, run, status } = useList(async () => (await call(api.GET("/mailboxes"))).items);
  const [editing, setEditing] = useState<Schemas["Mailbox"] | "new" | null>(null);
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const s = (k: string) => String(f.get(k) ?? "").trim();
    const body = { name: s("name"), host: s("host"), port: s("port") ? Number(s("port")) : null, tls: f.get("tls") === "on", user: s("user"), folder: s("folder") || "INBOX", enabled: f.get("enabled") === "on" };
    const password = String(f.get("password") ?? "");
    void run(async () => {
      if (editing === "new") await call(api.POST("/mailboxes", { body: { ...body, password } }));
      else if (editing) await call(api.PUT("/mailboxes/{id}", { params: { path: { id: editing.id } }, body: { ...body, ...(password ? { password } : {}) } }));
      setEditing(null);
      return `Saved mailbox ${body.name}.`;
    });
  };
  const m = editing && editing !== "new" ? editing : null;
  return (
    <>
      <div class="toolbar">
        <h1>IMAP mailboxes</h1>
        <button type="button" class="primary" onClick={() => setEditing("new")}>
          Add mailbox
        </button>
      </div>
      {status}
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Server</th>
            <th scope="col">User</th>
            <th scope="col">Enabled</th>
            <th scope="col">Last poll</th>
            <th scope="col">Last error</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items?.map((b) => (
            <tr key={b.id}>
              <td>{b.name}</td>
              <td>
                {b.host}:{b.port} {b.tls ? "TLS" : "plain"} · {b.folder}
              </td>
              <td>{b.user}</td>
              <td>{b.enabled ? "yes" : "no"}</td>
              <td>{b.last_poll_at ? `${formatTime(b.last_poll_at)} (${b.last_ingested} new)` : "never"}</td>
              <td class={b.last_error ? "error-text" : ""}>{b.last_error ?? "—"}</td>
              <td>
                <button type="button" onClick={() => setEditing(b)}>
                  Edit
                </button>
                <button type="button" class="danger" onClick={() => window.confirm(`Delete mailbox ${b.name}?`) && void run(async () => (await call(api.DELETE("/mailboxes/{id}", { params: { path: { id: b.id } } })), `Deleted ${b.name}.`))}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editing && (
        <form class="form" onSubmit={submit} aria-label="Mailbox" key={m?.id ?? "new"}>
          <h2>{m ? `Edit ${m.name}` : "Add mailbox"}</h2>
          <label>
            Name <input name="name" required defaultValue={m?.name} />
          </label>
          <label>
            Host <input name="host" required defaultValue={m?.host} />
          </label>
          <label>
            Port <input name="port" type="number" defaultValue={m ? String(m.port) : ""} />
          </label>
          <label class="check">
            <input name="tls" type="checkbox" defaultChecked={m?.tls ?? true} /> TLS
          </label>
          <label>
            User <input name="user" required defaultValue={m?.user} autoComplete="off" />
          </label>
          <label>
            Password {m && <span class="hint">(write-only: leave empty to keep the stored one)</span>}
            <input name="password" type="password" autoComplete="new-password" required={!m} />
          </label>
          <label>
            Folder <input name="folder" defaultValue={m?.folder ?? "INBOX"} />
          </label>
          <label class="check">
            <input name="enabled" type="checkbox" defaultChecked={m?.enabled ?? true} /> Enabled
          </label>
          <div class="buttons">
            <button type="submit" class="primary">
              Save mailbox
            </button>
            <button type="button" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </>
  );
}

function Modules() {
  const dir = useDirectory();
  const { items, run, status } = useList(async () => (await call(api.GET("/modules"))).items);
  const [assignee, setAssignee] = useState("none");
  const create = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const name = String(f.get("name") ?? "").trim();
    const a = assigneeInput(assignee);
    void run(async () => {
      await call(api.POST("/modules", { body: { name, kind: String(f.get("kind")) as Schemas["ModuleKind"], enabled: true, assignee: a?.type === "user" ? a.id : null } }));
      form.reset();
      return `Added ${name}.`;
    });
  };
  const toggle = (m: Schemas["Module"]) =>
    run(async () => (await call(api.PUT("/modules/{id}", { params: { path: { id: m.id } }, body: { name: m.name, kind: m.kind, enabled: !m.enabled, assignee: m.assignee, cases_per_minute: m.cases_per_minute } })), `${m.enabled ? "Disabled" : "Enabled"} ${m.name}.`));
  return (
    <>
      <h1>QuickSupport modules and SOS buttons</h1>
      {status}
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
            <th scope="col">Id (for the customer side)</th>
            <th scope="col">Assignee</th>
            <th scope="col">Enabled</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items?.map((m) => (
            <tr key={m.id}>
              <td>{m.name}</td>
              <td>{m.kind === "sos" ? "SOS button" : "custom module"}</td>
              <td>
                <code>{m.id}</code>
              </td>
              <td>{m.assignee ? dir.userName(m.assignee) : "—"}</td>
              <td>
                <input type="checkbox" aria-label={`${m.name} enabled`} checked={m.enabled} onChange={() => void toggle(m)} />
              </td>
              <td>
                <button type="button" class="danger" onClick={() => window.confirm(`Delete ${m.name}?`) && void run(async () => (await call(api.DELETE("/modules/{id}", { params: { path: { id: m.id } } })), `Deleted ${m.name}.`))}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="form inline-form" onSubmit={create} aria-label="Add module">
        <h2>Add module</h2>
        <label>
          Name <input name="name" required />
        </label>
        <label>
          Kind{" "}
          <select name="kind">
            <option value="custom">custom module</option>
            <option value="sos">SOS button</option>
          </select>
        </label>
        <AssigneeSelect label="Assignee" value={assignee} onChange={setAssignee} />
        <button type="submit" class="primary">
          Add module
        </button>
      </form>
    </>
  );
}
