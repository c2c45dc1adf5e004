// OIDC authorization code + PKCE with oidc-client-ts, the same code path in the cloud (Cognito or
// the deployer's issuer) and locally (the desk's development issuer). The signed-in user and its
// tokens live in memory only; the transient PKCE state across the redirect is in sessionStorage.
import { InMemoryWebStorage, UserManager, WebStorageStateStore, type User } from "oidc-client-ts";
import type { ConsoleConfig } from "./config";

export const CALLBACK_PATH = "/app/auth/callback";

let manager: UserManager | null = null;
let logoutParams: Record<string, string> = {};
let current: User | null = null;
let redirecting = false;
const beforeRedirect = new Set<() => void>();

/** Work that must finish before the page leaves for the issuer (e.g. persisting drafts). */
export function onBeforeSignIn(f: () => void): () => void {
  beforeRedirect.add(f);
  return () => beforeRedirect.delete(f);
}

export function accessToken(): string | null {
  return current && !current.expired ? current.access_token : null;
}

/** Where to go after sign-in: only a path of the console itself, never another origin. */
export function safeReturnPath(state: unknown): string {
  return typeof state === "string" && state.startsWith("/app/") && !state.startsWith("/app/auth/")
    ? state
    : "/app/tickets";
}

/**
 * Signs in (or finishes signing in). Returns true when a user is signed in and the app may render;
 * false when the page is leaving for the issuer.
 */
export async function initAuth(cfg: ConsoleConfig): Promise<boolean> {
  manager = new UserManager({
    authority: cfg.issuer,
    client_id: cfg.client_id,
    redirect_uri: cfg.redirect_uri,
    post_logout_redirect_uri: cfg.post_logout_redirect_uri,
    scope: cfg.scope,
    response_type: "code",
    userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
    stateStore: new WebStorageStateStore({ store: window.sessionStorage }),
    automaticSilentRenew: true,
    accessTokenExpiringNotificationTimeInSeconds: 60,
    // Cognito's discovery has no end_session_endpoint; its /logout wants logout_uri.
    ...(cfg.end_session_endpoint ? { metadataSeed: { end_session_endpoint: cfg.end_session_endpoint } } : {}),
  });
  logoutParams = cfg.end_session_endpoint ? { logout_uri: cfg.post_logout_redirect_uri } : {};
  manager.events.addUserLoaded((u) => void (current = u));
  manager.events.addUserUnloaded(() => void (current = null));
  if (location.pathname === CALLBACK_PATH) {
    const user = await manager.signinRedirectCallback();
    current = user;
    history.replaceState(null, "", safeReturnPath(user.state));
    return true;
  }
  current = await manager.getUser();
  if (current && !current.expired) return true;
  await signIn();
  return false;
}

/** Leaves for the issuer's sign-in page; comes back to the current console path. */
export async function signIn(): Promise<void> {
  if (!manager || redirecting) return;
  redirecting = true;
  for (const f of beforeRedirect) f();
  const here = location.pathname.startsWith("/app/") ? location.pathname + location.search : "/app/tickets";
  await manager.signinRedirect({ state: here });
}

export async function signOut(): Promise<void> {
  if (!manager) return;
  for (const f of beforeRedirect) f();
  await manager.signoutRedirect({ extraQueryParams: logoutParams });
}
