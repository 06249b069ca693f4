// Sign-in through the OIDC provider (Cognito's hosted UI, or the city's provider in the China
// regions): the authorisation code flow with PKCE (RFC 7636, S256) for a public client. The
// console keeps no secret; the verifier and state live in sessionStorage for the round trip only.

export interface OidcConfig {
  authorize_url: string;
  token_url: string;
  logout_url: string | null;
  client_id: string;
  scopes: string;
}

/** GET /v1/signin: how operators sign in on this stage. */
export interface SignInOptions {
  stage: string;
  local_tokens: boolean;
  oidc: OidcConfig | null;
}

interface Pending {
  verifier: string;
  state: string;
  hash: string;
}

const PENDING_KEY = "fzt.console.oidc";

export class SignInError extends Error {}

/** Where the provider sends the browser back: the console itself, without query or hash. */
function redirectUri(): string {
  return location.origin + location.pathname;
}

function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function random(n: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** Leaves for the provider's sign-in page; the view to return to travels in sessionStorage. */
export async function beginSignIn(c: OidcConfig): Promise<void> {
  const pending: Pending = { verifier: random(48), state: random(16), hash: location.hash };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: c.client_id,
    redirect_uri: redirectUri(),
    scope: c.scopes,
    state: pending.state,
    code_challenge: await challengeOf(pending.verifier),
    code_challenge_method: "S256",
  });
  location.assign(`${c.authorize_url}?${query}`);
}

/** True when the provider has just sent the browser back (with a code, or an error). */
export function isReturnFromProvider(): boolean {
  const q = new URLSearchParams(location.search);
  return q.has("state") && (q.has("code") || q.has("error"));
}

/** Trades the returned code for an ID token; cleans the address bar whatever happens. */
export async function finishSignIn(c: OidcConfig): Promise<string> {
  const q = new URLSearchParams(location.search);
  let pending: Pending | null = null;
  try {
    pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? "null") as Pending | null;
  } catch {
    pending = null;
  }
  sessionStorage.removeItem(PENDING_KEY);
  history.replaceState(null, "", location.pathname + (pending?.hash || "#/"));
  if (q.has("error")) throw new SignInError(`统一身份认证未完成：${q.get("error_description") ?? q.get("error")}`);
  if (!pending || pending.state !== q.get("state")) throw new SignInError("登录校验未通过（页面已过期或被打开了两次），请重新登录");
  let response: Response;
  try {
    response = await fetch(c.token_url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: c.client_id,
        code: q.get("code") ?? "",
        redirect_uri: redirectUri(),
        code_verifier: pending.verifier,
      }),
    });
  } catch {
    throw new SignInError("无法连接统一身份认证服务，请检查网络后重试");
  }
  const body = (await response.json().catch(() => ({}))) as { id_token?: string; error?: string };
  if (!response.ok || !body.id_token) throw new SignInError(`统一身份认证未通过（${body.error ?? response.status}），请重新登录`);
  return body.id_token;
}

/** The provider's sign-out page, which then sends the browser back to the console. */
export function signOutUrl(c: OidcConfig): string | null {
  if (!c.logout_url) return null;
  const back = redirectUri();
  const query = new URLSearchParams({ client_id: c.client_id, logout_uri: back, post_logout_redirect_uri: back });
  return `${c.logout_url}?${query}`;
}
