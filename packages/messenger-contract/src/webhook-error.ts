import { type ErrorCodes, MessengerContractError } from './errors.js';
import type { ContractIssue } from './normalise.js';

/** A webhook body that violates the contract; answer `httpStatus` (422) with `{ok:false,error:code}`. */
export class WebhookPayloadError extends MessengerContractError {
  /** HTTP status to answer: always 422. */
  readonly httpStatus = 422;
  /** What is wrong, one entry per violated field. */
  readonly issues: ContractIssue[];
  constructor(code: typeof ErrorCodes.invalidPayload | typeof ErrorCodes.invalidQr | string, issues: ContractIssue[]) {
    super(code, `webhook payload rejected: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    this.name = 'WebhookPayloadError';
    this.issues = issues;
  }
}
