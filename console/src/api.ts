// The one door to the HTTP API: same origin, bearer token, the contract's error shape.

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public field?: string,
  ) {
    super(message);
  }
}

export interface Session {
  token: string;
  /** How the token was obtained: the local stage's seeded operators, or the OIDC provider. */
  via: "local" | "oidc";
  user: string;
  display_name: string;
  role: string;
  district: string;
  /** The handler's department; null for every other role. */
  department: string | null;
}

/** GET /v1/me: the operator as the directory knows them (role and scope decide the views). */
interface Me {
  user: string;
  display_name: string;
  role: string;
  district: string;
  department: string | null;
}

const SESSION_KEY = "fzt.console.session";

/** The API lives where the console does, minus "/console…" (keeps an API Gateway stage prefix). */
export const API_BASE = location.pathname.replace(/\/console(\/.*)?$/, "");

let session: Session | null = null;
try {
  const stored = sessionStorage.getItem(SESSION_KEY);
  session = stored ? (JSON.parse(stored) as Session) : null;
} catch {
  session = null;
}

export function currentSession(): Session | null {
  return session;
}

export function setSession(next: Session | null): void {
  session = next;
  if (next) sessionStorage.setItem(SESSION_KEY, JSON.stringify(next));
  else sessionStorage.removeItem(SESSION_KEY);
}

/** Signs in with a token: asks the API who it names, then keeps both for this tab. */
export async function signInWith(token: string, via: Session["via"]): Promise<Session> {
  const me = await call<Me>("GET", "/v1/me", undefined, true, token);
  const next: Session = { token, via, ...me };
  setSession(next);
  return next;
}

// --- progress indicator: a bar at the top while any request is in flight -------------------------

let inFlight = 0;
function progress(delta: number): void {
  inFlight += delta;
  const bar = document.getElementById("progress");
  if (bar) bar.hidden = inFlight <= 0;
  document.body.setAttribute("aria-busy", inFlight > 0 ? "true" : "false");
}

let onExpired: (() => void) | null = null;
export function whenSessionExpires(fn: () => void): void {
  onExpired = fn;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function qs(query: Query): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === null || v === undefined || v === "" || v === false) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

export async function call<T>(
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  auth = true,
  token?: string,
  extra: Record<string, string> = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...extra };
  const bearer = token ?? session?.token;
  if (auth && bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  progress(1);
  let response: Response;
  try {
    response = await fetch(API_BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network", "无法连接服务器，请检查网络后重试");
  } finally {
    progress(-1);
  }
  let data: unknown = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const err = (data as { error?: { code?: string; message?: string; field?: string } } | null)?.error;
    const failure = new ApiError(response.status, err?.code ?? "http_" + response.status, err?.message ?? response.statusText, err?.field);
    if (response.status === 401 && auth && !token && session && onExpired) onExpired();
    throw failure;
  }
  return data as T;
}

export const get = <T>(path: string, query: Query = {}, auth = true) => call<T>("GET", path + qs(query), undefined, auth);
export const post = <T>(path: string, body: unknown = {}, auth = true) => call<T>("POST", path, body, auth);

const STATUS_TEXT: Record<number, string> = {
  0: "网络异常",
  400: "填写内容有误",
  401: "未登录或登录已过期，请重新登录",
  403: "无权执行此操作",
  404: "未找到，或不在您的管辖范围内",
  409: "诉求状态已变化，无法执行此操作，请刷新后重试",
  413: "内容过大",
  429: "操作过于频繁，请稍后再试",
};

/** A clear Chinese sentence, with the API's own message and field for the details. */
export function describe(err: unknown): string {
  if (err instanceof ApiError) {
    const head = STATUS_TEXT[err.status] ?? (err.status >= 500 ? "服务器出错，请稍后再试" : `请求失败（${err.status}）`);
    const detail = err.status === 0 ? "" : `（${err.field ? err.field + "：" : ""}${err.message}）`;
    return head + detail;
  }
  return `页面出错：${err instanceof Error ? err.message : String(err)}`;
}

// --- the stack's clock ------------------------------------------------------------------------
// On the local stage the clock is movable (/_local/clock); SLA countdowns follow it. Elsewhere the
// route is a 404 and the browser's clock stands in.

let clockOffset = 0;
let localStage: boolean | null = null;

export async function syncClock(): Promise<boolean> {
  if (localStage === false) return false;
  try {
    const before = Date.now();
    const { now } = await get<{ now: string }>("/_local/clock", {}, false);
    clockOffset = Date.parse(now) - (before + Date.now()) / 2;
    localStage = true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) localStage = false;
    else throw err;
  }
  return Boolean(localStage);
}

export function serverNow(): number {
  return Date.now() + clockOffset;
}

export function isLocalStage(): boolean {
  return localStage === true;
}
