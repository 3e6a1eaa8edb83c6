import type { ProviderAdapter } from './adapter.js';
import type { HeaderBag, QueryBag } from './auth.js';
import type { InboundDedup } from './dedup.js';
import { ErrorCodes } from './errors.js';
import { inboundKeyOf } from './keys.js';
import { type Logger, silentLogger } from './ports.js';
import type { MessageIn } from './schemas.js';
import { TenantSchema } from './schemas.js';
import { WebhookPayloadError } from './webhook-error.js';

/** A webhook call, framework-free: the parts the handler reads. */
export interface WebhookHttpRequest {
  /** Parsed JSON body, as received (validated by the adapter). */
  body: unknown;
  /** Query parameters (may carry the provider `token`). */
  query?: QueryBag;
  /** Request headers (may carry `X-Provider-Token`). */
  headers?: HeaderBag;
  /** Tenant from the route (`/webhook/avito/:tenant`); otherwise `body.tenant` is used. */
  tenant?: number;
}

/** What to answer the provider; the caller writes it as JSON. */
export interface WebhookHttpResponse {
  /** HTTP status: 200, 401, 422, 500 or 503 (503 makes the provider retry). */
  status: number;
  /** JSON body in the seed's shape (`{ok:true,queued:true}`, `{ok:false,error}`…). */
  body: Record<string, unknown>;
}

/** Options of createWebhookHandler. */
export interface WebhookHandlerOptions {
  /** Adapter of the provider this endpoint serves: authenticates and parses its calls. */
  adapter: ProviderAdapter;
  /** Stores / enqueues one accepted event (webhook_events + LPUSH inbox:message_in). Throwing answers 503. */
  onEvent: (event: MessageIn) => Promise<void>;
  /** Drops repeated (tenant, provider, message_id); without it every delivery is processed. */
  dedup?: InboundDedup;
  /** Receives rejected / failed calls (`webhook_unauthorized`, `webhook_enqueue_failed`…); default silent. */
  logger?: Logger;
}

/**
 * Framework-free POST /webhook: authenticate (401), validate (422 invalid_payload / invalid_qr), de-duplicate, hand
 * events to `onEvent`. Answers the seed's bodies: `{ok:true,queued:true}` for messages and ready,
 * `{ok:true,queued:false,event:"qr"}` for QR codes.
 */
export function createWebhookHandler(
  options: WebhookHandlerOptions,
): (request: WebhookHttpRequest) => Promise<WebhookHttpResponse> {
  const logger = options.logger ?? silentLogger;
  const { adapter } = options;

  return async (request) => {
    const tenant = request.tenant ?? tenantOf(request.body);
    if (tenant === undefined) return tenantIssue('tenant is required');
    // Authenticate before parsing: unauthenticated bodies are not worth validating.
    let authorised: boolean;
    try {
      authorised = await adapter.verifyWebhook({ tenant, query: request.query, headers: request.headers });
    } catch (error) {
      // The token store is down: neither accept nor reject for good; the provider retries later.
      logger.warn({ provider: adapter.provider, tenant, error: errorName(error) }, 'webhook_auth_failed');
      return { status: 503, body: { ok: false, error: 'auth_unavailable' } };
    }
    if (!authorised) {
      logger.warn({ provider: adapter.provider, tenant }, 'webhook_unauthorized');
      return { status: 401, body: { ok: false, error: ErrorCodes.providerTokenUnauthorized } };
    }

    let parsed: Awaited<ReturnType<ProviderAdapter['parseWebhook']>>;
    try {
      parsed = await adapter.parseWebhook(request.body, { tenant });
    } catch (error) {
      if (error instanceof WebhookPayloadError) {
        return { status: 422, body: { ok: false, error: error.code, issues: error.issues } };
      }
      // Never throw. A ZodError / TypeError / SyntaxError comes from the body's shape (the input's fault): 422,
      // the provider should not retry. Anything else is our bug or an outage: 500, logged.
      if (isInputError(error)) {
        logger.warn({ provider: adapter.provider, tenant, error: errorName(error) }, 'webhook_parse_rejected');
        return {
          status: 422,
          body: { ok: false, error: ErrorCodes.invalidPayload, issues: [{ path: '', message: errorMessage(error) }] },
        };
      }
      logger.warn({ provider: adapter.provider, tenant, error: errorName(error) }, 'webhook_parse_failed');
      return { status: 500, body: { ok: false, error: 'internal_error' } };
    }
    for (const ignored of parsed.ignored) {
      logger.warn({ provider: adapter.provider, tenant, reason: ignored.reason }, 'webhook_skip');
    }

    let queued = 0;
    let duplicates = 0;
    let qr = 0;
    for (const event of parsed.events) {
      // The token proves the tenant in the route/body; an event may not claim another tenant.
      if (event.tenant !== tenant) return tenantIssue('tenant mismatch');
      const key = inboundKeyOf(event);
      const fields = { provider: adapter.provider, tenant, event: event.event };
      let claimed = true;
      try {
        if (key !== undefined && options.dedup !== undefined) claimed = await options.dedup.claim(key);
      } catch (error) {
        // Without the claim we cannot promise "at most once": refuse, the provider retries later.
        logger.warn({ ...fields, error: errorName(error) }, 'webhook_dedup_failed');
        return { status: 503, body: { ok: false, error: 'dedup_unavailable' } };
      }
      if (!claimed) {
        duplicates += 1;
        continue;
      }
      try {
        await options.onEvent(event);
      } catch (error) {
        if (key !== undefined) {
          // A claim left behind would turn the provider's retry into a "duplicate": say so loudly.
          await options.dedup
            ?.release(key)
            .catch((releaseError: unknown) =>
              logger.warn({ ...fields, error: errorName(releaseError) }, 'webhook_release_failed'),
            );
        }
        logger.warn({ ...fields, error: errorName(error) }, 'webhook_enqueue_failed');
        // 503 makes the provider retry; the released claim lets that retry through.
        return { status: 503, body: { ok: false, error: 'enqueue_failed' } };
      }
      if (event.event === 'qr') qr += 1;
      else queued += 1;
    }

    if (queued > 0) return { status: 200, body: { ok: true, queued: true } };
    if (qr > 0) return { status: 200, body: { ok: true, queued: false, event: 'qr' } };
    if (duplicates > 0) return { status: 200, body: { ok: true, queued: false, duplicate: true } };
    return { status: 200, body: { ok: true, queued: false, ignored: parsed.ignored.map((i) => i.reason) } };
  };
}

const isInputError = (error: unknown): boolean =>
  error instanceof TypeError ||
  error instanceof SyntaxError ||
  (error instanceof Error && (error.name === 'ZodError' || error.constructor?.name === 'ZodError'));

const errorMessage = (error: unknown) => (error instanceof Error ? error.message.slice(0, 200) : 'invalid payload');

const errorName = (error: unknown) => (error instanceof Error ? error.name : typeof error);

function tenantIssue(message: string): WebhookHttpResponse {
  return { status: 422, body: { ok: false, error: ErrorCodes.invalidPayload, issues: [{ path: 'tenant', message }] } };
}

function tenantOf(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const parsed = TenantSchema.safeParse((body as { tenant?: unknown }).tenant);
  return parsed.success ? parsed.data : undefined;
}
