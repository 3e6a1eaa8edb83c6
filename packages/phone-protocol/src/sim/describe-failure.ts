import { PhoneAuthError, PhoneHttpError, PhoneProtocolError } from '../errors.js';

/** `host:port` of a base URL, with the scheme's default port spelled out (what the user must check). */
export function hostPort(baseUrl: string): string {
  const url = new URL(baseUrl);
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}

/** The first `code` (ECONNREFUSED, ENOTFOUND...) or timeout found along an error's causes. */
function rootCode(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 5) return undefined;
  const { code, name, cause, errors } = error as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
  if (name === 'TimeoutError') return 'ETIMEDOUT';
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  for (const inner of [cause, ...(Array.isArray(errors) ? errors : [])]) {
    const found = rootCode(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function innermostMessage(error: Error): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error && current.cause instanceof Error; depth += 1) {
    current = current.cause;
  }
  return current instanceof Error ? current.message : String(current);
}

const NETWORK_HINTS: Record<string, string> = {
  ECONNREFUSED: 'connection refused: is the server running, and is --url right?',
  ENOTFOUND: 'host not found: check the host name in --url',
  EAI_AGAIN: 'host name lookup failed: check the host name in --url and the DNS',
  ETIMEDOUT: 'no answer in time: is the server overloaded or behind a firewall?',
  ECONNRESET: 'the connection was reset: is --url pointing at the right port (http vs https)?',
};

/**
 * One line a person can act on for an error the simulator met, e.g.
 * `cannot reach 127.0.0.1:3000: connection refused: is the server running, and is --url right?`.
 */
export function describeFailure(error: unknown, context: { baseUrl: string; username: string }): string {
  if (error instanceof PhoneAuthError) {
    return (
      `login refused for user "${context.username}" (HTTP ${error.status}): wrong username or password ` +
      `(check --user and CALLBRIDGE_SIM_PASSWORD / --password)`
    );
  }
  if (error instanceof PhoneHttpError) {
    if (error.status === 429) {
      const wait =
        error.retryAfterMs === undefined ? 'later' : `in ${Math.max(1, Math.ceil(error.retryAfterMs / 1000))} s`;
      return `throttled by the server (HTTP 429, login brake after failed attempts): retry ${wait}`;
    }
    return `${error.message} from ${hostPort(context.baseUrl)}`;
  }
  if (error instanceof PhoneProtocolError && error.code === 'network_error') {
    const code = rootCode(error.cause);
    const hint = (code && NETWORK_HINTS[code]) ?? `network error (${code ?? innermostMessage(error)})`;
    return `cannot reach ${hostPort(context.baseUrl)}: ${hint}`;
  }
  return error instanceof Error ? error.message : String(error);
}
