import { HttpResponse } from 'msw';

/** A scripted upstream failure: answered instead of the normal response for the next `times` matching calls. */
export interface Fault {
  /** HTTP status to answer (ignored when `network` is set). */
  status: number;
  /** JSON body to answer (default `{ok:false,error:"fault"}`). */
  body?: unknown;
  /** Value of the Retry-After header (seconds or an HTTP date), when set. */
  retryAfter?: string;
  /** How many matching calls get this fault (default 1). */
  times?: number;
  /** Only for requests whose path contains this string (default: every route of the fake). */
  path?: string;
  /** Drop the connection instead of answering. */
  network?: boolean;
}

/** Queue of faults shared by the fakes. */
export class FaultQueue {
  private readonly faults: (Fault & { times: number })[] = [];

  /** Queues a fault; faults are consumed in the order pushed. */
  push(fault: Fault): void {
    this.faults.push({ ...fault, times: fault.times ?? 1 });
  }

  /** Consumes a matching fault and returns its response, if any. */
  take(path: string): Response | undefined {
    const index = this.faults.findIndex((f) => f.path === undefined || path.includes(f.path));
    if (index < 0) return undefined;
    const fault = this.faults[index];
    if (fault === undefined) return undefined;
    fault.times -= 1;
    if (fault.times <= 0) this.faults.splice(index, 1);
    if (fault.network) return HttpResponse.error();
    const headers: Record<string, string> = {};
    if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
    return HttpResponse.json((fault.body ?? { ok: false, error: 'fault' }) as Record<string, unknown>, {
      status: fault.status,
      headers,
    });
  }

  /** Drops every queued fault. */
  clear(): void {
    this.faults.length = 0;
  }
}

/** One request as a fake saw it. Secrets (tokens) are never recorded. */
export interface RecordedCall {
  /** HTTP method. */
  method: string;
  /** URL path, without the query. */
  path: string;
  /** Parsed JSON body, the raw text when not JSON, undefined when empty. */
  body: unknown;
}

export async function bodyOf(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
