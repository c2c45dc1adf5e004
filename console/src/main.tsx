import { render } from "preact";
import "./styles.css";
import { loadConfig } from "./config";
import { initAuth } from "./auth";
import { configureApi } from "./api/client";
import { App } from "./App";

async function boot(): Promise<void> {
  const root = document.getElementById("app")!;
  try {
    const cfg = await loadConfig();
    configureApi(cfg.api_base);
    if (!(await initAuth(cfg))) return; // on the way to the issuer
    if (location.pathname === "/" || !location.pathname.startsWith("/app/")) history.replaceState(null, "", "/app/tickets");
    render(<App />, root);
  } catch (e) {
    render(
      <main class="fatal" role="alert">
        <h1>The console could not start</h1>
        <p>{e instanceof Error ? e.message : String(e)}</p>
        <button type="button" onClick={() => location.reload()}>Try again</button>
      </main>,
      root,
    );
  }
}
void boot();
