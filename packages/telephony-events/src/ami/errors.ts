import { TelephonyEventsError } from '../errors.js';

/** `Response: Error` to an action; `message` is Asterisk's `Message` field. */
export class AmiActionError extends TelephonyEventsError {
  /** Every field of Asterisk's response (a repeated key holds its values in order). */
  readonly response: Record<string, string | string[]>;
  constructor(action: string, message: string, response: Record<string, string | string[]>) {
    super('ami_action_failed', `AMI ${action} failed: ${message}`);
    this.name = 'AmiActionError';
    this.response = response;
  }
}

/** Asterisk did not answer an action in time (code `ami_timeout`, retryable). */
export class AmiTimeoutError extends TelephonyEventsError {
  constructor(action: string, timeoutMs: number) {
    super('ami_timeout', `AMI ${action} got no response within ${timeoutMs} ms`, { isRetryable: true });
    this.name = 'AmiTimeoutError';
  }
}

/** Not connected, or the connection dropped while the action was pending. */
export class AmiConnectionError extends TelephonyEventsError {
  constructor(message: string, cause?: unknown) {
    super('ami_connection', message, { isRetryable: true, cause });
    this.name = 'AmiConnectionError';
  }
}

/** Asterisk refused the login (code `ami_auth_failed`): fix the username/secret, retrying will not help. */
export class AmiAuthError extends TelephonyEventsError {
  constructor(message: string) {
    super('ami_auth_failed', `AMI login failed: ${message}`);
    this.name = 'AmiAuthError';
  }
}
