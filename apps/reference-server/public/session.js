// Who the page acts as: the enterprise number and the bearer credential (account-link JWT or operator token),
// kept in sessionStorage and out of the address bar.
const store = sessionStorage;

/** Moves `token` from the URL into the session (no token in history, bookmarks or a Referer). */
export function captureFromUrl() {
  const qs = new URLSearchParams(location.search);
  if (qs.get('enterprise_number')) store.setItem('cb_enterprise', qs.get('enterprise_number'));
  if (qs.get('token')) {
    store.setItem('cb_token', qs.get('token'));
    qs.delete('token');
    history.replaceState(null, '', `${location.pathname}?${qs}`);
  }
}

export const enterprise = () => store.getItem('cb_enterprise');
export const token = () => store.getItem('cb_token');

export function signIn(enterpriseNumber, credential) {
  store.setItem('cb_enterprise', enterpriseNumber);
  store.setItem('cb_token', credential);
}

/**
 * Registration rotates the account link: the old JWT is revoked, the new one is in `account_url`. The page
 * switches to it and shows the new link's query (minus the token) in the address bar.
 */
export function adoptAccountUrl(accountUrl) {
  const link = new URL(accountUrl);
  const next = link.searchParams.get('token');
  if (!next) return;
  store.setItem('cb_token', next);
  link.searchParams.delete('token');
  if (link.searchParams.get('enterprise_number'))
    store.setItem('cb_enterprise', link.searchParams.get('enterprise_number'));
  history.replaceState(null, '', `${location.pathname}?${link.searchParams}`);
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Calls `api/<path>/<enterprise>[/<rest>]`; throws {@link ApiError} on any non-ok answer. */
export async function api(method, path, { body, rest = '', query } = {}) {
  const url = `api/${path}/${encodeURIComponent(enterprise())}${rest}${query ? `?${query}` : ''}`;
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token()}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({ ok: false, error: 'bad_response', message: `HTTP ${res.status}` }));
  if (!res.ok || data.ok === false) throw new ApiError(res.status, data.error ?? 'error', data.message ?? '');
  return data;
}

export async function whoami() {
  const res = await fetch('api/whoami', { headers: { authorization: `Bearer ${token()}` } });
  return res.ok ? (await res.json()).principal : undefined;
}
