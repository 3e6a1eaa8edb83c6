import type { CallStatus } from '@callbridge/phone-protocol';
import type { CallRecord } from '@callbridge/retailcrm-client';

/**
 * Device call status -> RetailCRM calls-upload `result`. `rejected` is the callee declining (busy tone);
 * `no_action` means the manager never placed the call, which RetailCRM can only show as a failed attempt.
 */
export const CALL_RESULT_BY_STATUS: Readonly<Record<CallStatus, CallRecord['result']>> = {
  connected: 'answered',
  no_answer: 'no answer',
  rejected: 'busy',
  no_action: 'failed',
  unknown: 'unknown',
};

export function toCallResult(status: string): CallRecord['result'] {
  return CALL_RESULT_BY_STATUS[status as CallStatus] ?? 'unknown';
}

/** The device's `direction` -> RetailCRM calls-upload `type`; click-to-call and unknown directions are outgoing. */
export function toCallType(direction: string | null | undefined): CallRecord['type'] {
  return /^(in|incoming|inbound)$/i.test(direction ?? '') ? 'in' : 'out';
}
