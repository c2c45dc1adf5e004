// Runtime configuration served by the desk at GET /config.json (same origin).
export type ConsoleConfig = {
  issuer: string;
  client_id: string;
  scope: string;
  redirect_uri: string;
  post_logout_redirect_uri: string;
  api_base: string;
  /** Where sign-out goes when the issuer's discovery names none (Cognito's /logout). */
  end_session_endpoint?: string;
};

export async function loadConfig(): Promise<ConsoleConfig> {
  const r = await fetch("/config.json", { cache: "no-store" });
  if (!r.ok) throw new Error(`GET /config.json answered ${r.status}`);
  return (await r.json()) as ConsoleConfig;
}
