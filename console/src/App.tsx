import { useEffect, useState } from "preact/hooks";
import { api, call } from "./api/client";
import { signOut } from "./auth";
import { linkClick, navigate, useLocation } from "./router";
import { DirectoryContext, ErrorNotice, type Directory } from "./ui";
import { TicketList } from "./views/TicketList";
import { Expert } from "./views/Expert";
import { Queue } from "./views/Queue";
import { Admin } from "./views/Admin";
import { Shortcuts, useGlobalShortcuts } from "./views/Shortcuts";

async function loadDirectory(): Promise<Directory> {
  const [me, users, groups] = await Promise.all([call(api.GET("/me")), call(api.GET("/users")), call(api.GET("/groups"))]);
  const u = new Map(users.items.map((x) => [x.id, x.name]));
  const g = new Map(groups.items.map((x) => [x.id, x.name]));
  return {
    me,
    users: users.items,
    groups: groups.items,
    userName: (id) => u.get(id) ?? id,
    groupName: (id) => g.get(id) ?? id,
    isAdmin: me.role === "admin",
  };
}

export function App() {
  const [dir, setDir] = useState<Directory | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [help, setHelp] = useState(false);
  const { path } = useLocation();
  const load = () => {
    setError(null);
    loadDirectory().then(setDir, setError);
  };
  useEffect(load, []);
  useGlobalShortcuts(() => setHelp((h) => !h));

  if (!dir) return <main class="loading">{error ? <ErrorNotice error={error} onRetry={load} /> : <p>Loading…</p>}</main>;

  let view;
  const ticket = /^\/app\/tickets\/(\d+)$/.exec(path);
  if (path === "/app/tickets") view = <TicketList />;
  else if (ticket) view = <Expert number={Number(ticket[1])} />;
  else if (path === "/app/queue") view = <Queue />;
  else if (path.startsWith("/app/admin")) view = dir.isAdmin ? <Admin path={path} /> : <p class="notice notice-error" role="alert">Admin settings are for administrators.</p>;
  else {
    navigate("/app/tickets", { replace: true });
    return null;
  }
  const nav = (href: string, label: string, match = href) => (
    <a href={href} onClick={linkClick} aria-current={path.startsWith(match) ? "page" : undefined}>
      {label}
    </a>
  );
  return (
    <DirectoryContext.Provider value={dir}>
      <header class="top">
        <span class="brand">Service Desk</span>
        <nav aria-label="Main">
          {nav("/app/tickets", "Tickets")}
          {nav("/app/queue", "Service Queue")}
          {dir.isAdmin && nav("/app/admin/rules", "Admin settings", "/app/admin")}
        </nav>
        <span class="who">
          {dir.me.user.name} ({dir.me.role})
          <button type="button" class="link" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts">
            ?
          </button>
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main">{view}</main>
      {help && <Shortcuts onClose={() => setHelp(false)} />}
    </DirectoryContext.Provider>
  );
}
