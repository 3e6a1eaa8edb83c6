import { HttpResponse } from 'msw';

/** A scripted upstream failure: answered instead of the normal response for the next `times` matching calls. */
export interface Fault {
  status: number;
  body?: unknown;
  retryAfter?: string;
  times?: number;
  /** Only for requests whose path contains this string (default: every route of the fake). */
  path?: string;
  /** Drop the connection instead of answering. */
  network?: boolean;
}

/** Queue of faults shared by the fakes. */
export class FaultQueue {
  private readonly faults: (Fault & { times: number })[] = [];

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

  clear(): void {
    this.faults.length = 0;
  }
}

/** One request as a fake saw it. Secrets (tokens) are never recorded. */
export interface RecordedCall {
  method: string;
  path: string;
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
