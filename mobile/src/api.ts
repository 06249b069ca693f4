// The one door to the HTTP API: same origin, the citizen's bearer token, the contract's error shape.
// No channel key ever: the citizen proves the phone by an SMS code and gets a token for it.

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public field?: string,
    /** Seconds to wait (a 429's Retry-After), when the API says. */
    public retryAfter?: number,
  ) {
    super(message);
  }
}

/** The citizen's sign-in (POST /v1/citizen/session), kept for this tab only. */
export interface Session {
  token: string;
  expires_at: string;
  phone: string;
}

const SESSION_KEY = "fzt.m.session";

/** The API lives where the page does, minus "/m…" (keeps an API Gateway stage prefix). */
export const API_BASE = location.pathname.replace(/\/m(\/.*)?$/, "");

function load(): Session | null {
  try {
    const stored = sessionStorage.getItem(SESSION_KEY);
    const s = stored ? (JSON.parse(stored) as Session) : null;
    return s && typeof s.token === "string" && typeof s.phone === "string" ? s : null;
  } catch {
    return null;
  }
}

let session: Session | null = null;

/** The session while it lasts (by the browser's clock; the API has the last word with a 401). */
export function currentSession(): Session | null {
  session = load() ?? session; // storage is the truth; the variable serves when storage is refused
  const ends = session ? Date.parse(session.expires_at) : NaN; // unreadable: let the API decide
  if (session && ends <= Date.now()) setSession(null);
  return session;
}

export function setSession(next: Session | null): void {
  session = next;
  try {
    if (next) sessionStorage.setItem(SESSION_KEY, JSON.stringify(next));
    else sessionStorage.removeItem(SESSION_KEY);
  } catch {
    // storage refused (private mode): the session lasts as long as the page
  }
  window.dispatchEvent(new Event("fzt:session")); // the header shows who is signed in
}

let inFlight = 0;
function progress(delta: number): void {
  inFlight += delta;
  const bar = document.getElementById("progress");
  if (bar) bar.hidden = inFlight <= 0;
  document.body.setAttribute("aria-busy", inFlight > 0 ? "true" : "false");
}

export async function call<T>(method: "GET" | "POST", path: string, body?: unknown, auth = false): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const s = auth ? currentSession() : null;
  if (auth && !s) throw new ApiError(401, "unauthorized", "请先验证手机号");
  if (s) headers.Authorization = `Bearer ${s.token}`;
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
    throw new ApiError(0, "network", "网络连接失败，请检查网络后重试");
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
    if (response.status === 401 && auth) setSession(null); // expired or revoked: verify the phone again
    const wait = Number(response.headers.get("Retry-After"));
    throw new ApiError(
      response.status,
      err?.code ?? `http_${response.status}`,
      err?.message ?? "",
      err?.field,
      Number.isFinite(wait) && wait > 0 ? Math.min(wait, 3600) : undefined,
    );
  }
  return data as T;
}

export const get = <T>(path: string, auth = false) => call<T>("GET", path, undefined, auth);
export const post = <T>(path: string, body: unknown, auth = false) => call<T>("POST", path, body, auth);

const STATUS_TEXT: Record<number, string> = {
  0: "网络连接失败，请检查网络后重试",
  400: "填写内容有误",
  401: "验证已过期，请重新获取短信验证码",
  403: "无权进行此操作",
  404: "没有找到这条诉求",
  409: "诉求状态已变化，请刷新后再试",
  413: "内容太长了",
  429: "操作太频繁了，请稍后再试",
};

const CHINESE = /[\u3400-\u9fff]/;

/**
 * The message to show: the API's own words when they are Chinese; otherwise a plain Chinese
 * sentence for the status, with the API's words after it for whoever helps the citizen.
 */
export function describe(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.message && CHINESE.test(err.message)) return err.message;
    const head =
      STATUS_TEXT[err.status] ?? (err.status >= 500 ? "系统繁忙，请稍后再试" : `提交失败（${err.status}）`);
    return err.message && err.status !== 0 ? `${head}（${err.message}）` : head;
  }
  return `页面出错：${err instanceof Error ? err.message : String(err)}`;
}
