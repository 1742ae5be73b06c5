// The dashboard's only way to the platform: the public REST API, with the operator's token.

const TOKEN_KEY = "dr.dashboard.token";

export interface Problem {
  field: string;
  reason: string;
  code: string;
}

/** A refused or failed request: `problems` holds the API's per-field 422 reasons. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
  }
}

export interface Answer<T> {
  body: T;
  headers: Headers;
  /** The write is in Kafka but the read model had not caught up when the API answered. */
  behind: boolean;
}

/** Kept for the tab only (sessionStorage): closing the tab logs out. */
export const session = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(value: string | null) {
    if (value === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, value);
  },
};

type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export async function call<T>(method: string, path: string, body?: unknown, token = session.token): Promise<Answer<T>> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, `the API cannot be reached (${(err as Error).message})`);
  }
  const text = await response.text();
  const parsed: unknown = text ? safeJson(text) : null;
  if (!response.ok) throw refusal(response.status, parsed, text);
  return { body: parsed as T, headers: response.headers, behind: response.headers.get("X-Read-Model-Behind") === "true" };
}

export const get = <T>(path: string, query?: Query) => call<T>("GET", withQuery(path, query));

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function refusal(status: number, parsed: unknown, text: string): ApiError {
  const detail = (parsed as { detail?: unknown } | null)?.detail;
  if (Array.isArray(detail)) {
    const problems = detail as Problem[];
    return new ApiError(status, problems.map((p) => `${p.field}: ${p.reason}`).join("; "), problems);
  }
  const message = typeof detail === "string" ? detail : text.slice(0, 200) || `HTTP ${status}`;
  if (status === 401) window.dispatchEvent(new CustomEvent("dr:unauthorized", { detail: message }));
  return new ApiError(status, message);
}
