// The one way to the server: openapi-fetch over the types generated from infra/openapi.yaml.
// Adds the bearer token and maps failures to ApiError once, here.
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema";
import { accessToken, signIn } from "../auth";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"] & { current_version?: number };

export type ErrorKind = "unauthorized" | "forbidden" | "not_found" | "conflict" | "invalid" | "server" | "network";

export class ApiError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly status: number,
    message: string,
    readonly problem?: Problem,
  ) {
    super(message);
  }
  get retryable(): boolean {
    return this.kind === "server" || this.kind === "network";
  }
}

export function errorFor(status: number, body: unknown): ApiError {
  const problem = body && typeof body === "object" && "code" in body ? (body as Problem) : undefined;
  const detail = problem?.detail ?? problem?.title ?? `HTTP ${status}`;
  if (status === 401) return new ApiError("unauthorized", status, "Your session has ended; signing in again.", problem);
  if (status === 403) return new ApiError("forbidden", status, `You are not allowed to do this: ${detail}`, problem);
  if (status === 404) return new ApiError("not_found", status, `Not found: ${detail}`, problem);
  if (status === 409) return new ApiError("conflict", status, detail, problem);
  if (status >= 500) return new ApiError("server", status, `The desk is unavailable right now (${status}). Try again.`, problem);
  const field = problem?.field && !detail.includes(problem.field) ? ` (${problem.field})` : "";
  return new ApiError("invalid", status, `${detail}${field}`, problem);
}

export let api: Client<paths> = makeClient("");

function makeClient(baseUrl: string): Client<paths> {
  // status and priority are comma lists (explode: false); tags go as the comma list `tags`.
  const client = createClient<paths>({ baseUrl, querySerializer: { array: { style: "form", explode: false } } });
  client.use({
    onRequest({ request }) {
      const token = accessToken();
      if (token) request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  });
  return client;
}

export function configureApi(baseUrl: string): void {
  api = makeClient(baseUrl);
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/** Awaits an openapi-fetch call; returns its data or throws ApiError. A 401 starts sign-in. */
export async function call<T>(request: Promise<Result<T>>): Promise<T> {
  let r: Result<T>;
  try {
    r = await request;
  } catch {
    throw new ApiError("network", 0, "The desk cannot be reached (network). Try again.");
  }
  if (r.response.ok) return r.data as T;
  const err = errorFor(r.response.status, r.error);
  if (err.kind === "unauthorized") void signIn();
  throw err;
}

/** Downloads an authenticated file: fetched as a blob with the bearer header, saved by the browser. */
export async function download(request: Promise<Result<unknown>>, filename: string): Promise<void> {
  const blob = (await call(request)) as Blob;
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
