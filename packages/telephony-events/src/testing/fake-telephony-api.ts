import type {
  CallEvent,
  CallEventResponse,
  CallRecord,
  ResponsibleManagerResponse,
  RetailCrmTelephonyApi,
  UploadCallsResponse,
} from '../ports.js';

/** Error shaped like the client's RetailCrmError (code, status, isRetryable). */
export class FakeCrmError extends Error {
  /** `rate_limited` for 429 and 503, else `api_error`. */
  readonly code: string;
  /** The scripted HTTP status. */
  readonly status: number;
  /** True for 5xx and 429. */
  readonly isRetryable: boolean;
  constructor(status: number, message = `HTTP ${status}`) {
    super(message);
    this.name = 'FakeCrmError';
    this.status = status;
    this.code = status === 503 || status === 429 ? 'rate_limited' : 'api_error';
    this.isRetryable = status >= 500 || status === 429;
  }
}

/** A status error, or a request that hangs for `hangMs` and is then dropped unprocessed. */
export type FakeFailure =
  | {
      /** HTTP status to fail with (thrown as a {@link FakeCrmError}). */
      status: number;
    }
  | {
      /** How long the request hangs, ms, before it is answered as a no-op (`success` with nothing stored). */
      hangMs: number;
    };

/** In-memory RetailCRM telephony API: records calls, de-duplicates uploads by externalId, scriptable failures. */
export interface FakeTelephonyApi extends RetailCrmTelephonyApi {
  /** Call events processed, in arrival order (failed and hung ones not included). */
  readonly callEvents: CallEvent[];
  /** Calls stored by uploads, in arrival order, duplicates of an `externalId` left out. */
  readonly uploadedCalls: CallRecord[];
  /** Requests received per method, failed and hung ones included. */
  readonly attempts: {
    /** `callEvent` requests. */
    callEvent: number;
    /** `uploadCalls` requests. */
    uploadCalls: number;
    /** `responsibleManager` requests. */
    responsibleManager: number;
  };
  /** Next calls fail in order (any method), then calls succeed again. */
  failNext(...failures: FakeFailure[]): void;
  /** `/telephony/manager` answers: phone -> manager (or a delay in ms to simulate a slow CRM). */
  managers: Map<
    string,
    {
      /** RetailCRM user id of the manager. */
      id: number;
      /** The manager's code (extension), answered as `manager.code`. */
      code?: string;
      /** Answer this much later, ms. */
      delayMs?: number;
    }
  >;
}

/** Builds an empty {@link FakeTelephonyApi}: every call succeeds until failures are scripted. */
export function createFakeTelephonyApi(): FakeTelephonyApi {
  const callEvents: CallEvent[] = [];
  const uploadedCalls: CallRecord[] = [];
  const attempts = { callEvent: 0, uploadCalls: 0, responsibleManager: 0 };
  const failures: FakeFailure[] = [];
  const managers = new Map<string, { id: number; code?: string; delayMs?: number }>();
  /** Resolves true when the request should be processed; a hung request is answered late and never processed. */
  const maybeFail = async (): Promise<boolean> => {
    const failure = failures.shift();
    if (!failure) return true;
    if ('hangMs' in failure) {
      await new Promise((resolve) => setTimeout(resolve, failure.hangMs));
      return false;
    }
    throw new FakeCrmError(failure.status);
  };
  return {
    callEvents,
    uploadedCalls,
    attempts,
    managers,
    failNext: (...list) => {
      failures.push(...list);
    },
    async callEvent(event): Promise<CallEventResponse> {
      attempts.callEvent++;
      if (await maybeFail()) callEvents.push(event);
      return { success: true };
    },
    async uploadCalls(calls): Promise<UploadCallsResponse> {
      attempts.uploadCalls++;
      if (!(await maybeFail())) return { success: true, processedCallsCount: 0, duplicateCalls: [] };
      const duplicateCalls: string[] = [];
      for (const call of calls) {
        if (call.externalId && uploadedCalls.some((c) => c.externalId === call.externalId)) {
          duplicateCalls.push(call.externalId);
        } else uploadedCalls.push(call);
      }
      return { success: true, processedCallsCount: calls.length - duplicateCalls.length, duplicateCalls };
    },
    async responsibleManager({ phone }): Promise<ResponsibleManagerResponse> {
      attempts.responsibleManager++;
      if (!(await maybeFail())) return { success: true };
      const manager = managers.get(phone);
      if (manager?.delayMs) await new Promise((resolve) => setTimeout(resolve, manager.delayMs));
      return manager
        ? { success: true, manager: { id: manager.id, ...(manager.code ? { code: manager.code } : {}) } }
        : { success: true };
    },
  };
}
