import type { AdapterWarning, SendResult, WebhookParseResult, WebhookVerifyRequest } from '../adapter.js';
import { type ProviderTokenStore, verifyProviderToken } from '../auth.js';
import { AdapterError, ErrorCodes } from '../errors.js';
import { parseMessageIn } from '../normalise.js';
import { WebhookPayloadError } from '../webhook-error.js';

/** Every adapter authenticates webhooks the same way; without a token store every call is rejected. */
export async function verifyWithProviderTokens(
  store: Pick<ProviderTokenStore, 'get'> | undefined,
  request: WebhookVerifyRequest,
): Promise<boolean> {
  if (store === undefined) return false;
  return (await verifyProviderToken(store, request.tenant, request)).ok;
}

/** A worker webhook body is already a MessageIn: validate and normalise it, or throw a 422 payload error. */
export function parseWorkerWebhook(body: unknown): WebhookParseResult {
  const parsed = parseMessageIn(body);
  if (!parsed.ok) throw new WebhookPayloadError(parsed.error, parsed.issues);
  return { events: [parsed.value], ignored: [] };
}

/** Maps a worker's `{ok:true,message_id}` / `{ok:false,error}` answer. */
export function workerSendResult(
  json: unknown,
  provider: 'telegram' | 'whatsapp',
  warnings: AdapterWarning[],
): SendResult {
  const answer = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  if (answer.ok === false) {
    const code = typeof answer.error === 'string' && answer.error !== '' ? answer.error : ErrorCodes.upstreamError;
    throw new AdapterError({
      provider,
      code,
      message: `${provider}: worker refused the message (${code})`,
      isRetryable: answer.retryable === true,
    });
  }
  const result: SendResult = { ok: true, provider, warnings };
  const id = answer.message_id ?? answer.id;
  if (typeof id === 'string' || typeof id === 'number') result.providerMessageId = String(id);
  return result;
}
