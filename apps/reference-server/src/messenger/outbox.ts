import {
  AdapterError,
  type AvitoAdapter,
  checkOutboxGuards,
  ErrorCodes,
  MessengerContractError,
  type OutboxGuardConfig,
  type ResolvedTarget,
  type TelegramWorkerAdapter,
  type TransportMessage,
  toWorkerResult,
  type WhatsAppWebAdapter,
} from '@callbridge/messenger-contract';
import type { Logger } from 'pino';
import { lookupsOf } from './contact-identity.js';
import type { ContactStore } from './contacts.js';
import type { MessengerMetrics } from './metrics.js';
import type { MessengerStore } from './store.js';

export interface OutboxDeps {
  guards: OutboxGuardConfig;
  /** The seed's lead check (`err:no_lead`); OUTBOX_REQUIRE_LEAD=false turns it off. */
  requireLead: boolean;
  store: MessengerStore;
  contacts: ContactStore;
  adapters: { telegram: TelegramWorkerAdapter; whatsapp: WhatsAppWebAdapter; avito: AvitoAdapter };
  logger: Logger;
  metrics: MessengerMetrics;
}

/** What a send came to: the HTTP status and body `/send` answers (`retryAfter` -> Retry-After). */
export interface SendOutcome {
  status: number;
  body: Record<string, unknown>;
  retryAfter?: number;
}

export type SendSource = 'send' | 'auto_reply';

/** The one way out: every message (`POST /send`, auto-replies) passes the same guards, lead check and idempotency. */
export interface Outbox {
  send(message: TransportMessage, target: ResolvedTarget, source?: SendSource): Promise<SendOutcome>;
}

type LeadState = { state: 'found'; leadId: number } | { state: 'missing' | 'unknown' } | undefined;

/**
 * The seed's guard order: OUTBOX_ENABLED (403 outbox_disabled) -> OUTBOX_WHITELIST (403 not_whitelisted) -> lead
 * (404 err:no_lead without any delivery; when the lead store cannot answer — the seed's "offline" mode — the send
 * goes ahead with the warning `err:no_lead`) -> `client_msg_id` claim -> the channel's adapter.
 */
export function createOutbox(deps: OutboxDeps): Outbox {
  const { logger, metrics, store } = deps;
  const skipped = (channel: string, reason: string) =>
    logger.info({ event: 'send_result', status: 'skipped', reason, channel }, 'send skipped');

  async function leadOf(message: TransportMessage, target: ResolvedTarget): Promise<LeadState> {
    if (!deps.requireLead) return undefined;
    const lookups = lookupsOf(target);
    if (lookups === undefined) return undefined; // Telegram "me": the account itself, no lead involved.
    try {
      const leadId = await deps.contacts.findLead(message.tenant, lookups);
      return leadId === undefined ? { state: 'missing' } : { state: 'found', leadId };
    } catch (err) {
      logger.warn(
        { err: err instanceof Error ? err.message : String(err), tenant: message.tenant },
        'lead lookup failed',
      );
      return { state: 'unknown' };
    }
  }

  async function deliver(message: TransportMessage, warnings: string[]): Promise<SendOutcome & { retryable: boolean }> {
    try {
      const result = toWorkerResult(await deps.adapters[message.channel].send(message));
      logger.info(
        { event: 'send_result', status: 'sent', reason: 'ok', channel: message.channel, tenant: message.tenant },
        'send ok',
      );
      const adapterWarnings = Array.isArray(result.warnings) ? (result.warnings as unknown[]) : [];
      const body = warnings.length > 0 ? { ...result, warnings: [...adapterWarnings, ...warnings] } : result;
      return { status: 200, body, retryable: false };
    } catch (error) {
      if (!(error instanceof MessengerContractError)) throw error;
      logger.warn(
        { event: 'send_result', status: 'error', reason: error.code, channel: message.channel, tenant: message.tenant },
        'send failed',
      );
      // The upstream refused or is down: 502. Refused before any upstream call (missing_chat, text_too_long): 422.
      const upstream = error instanceof AdapterError && (error.isRetryable || error.status !== undefined);
      return {
        status: upstream ? 502 : 422,
        body: toWorkerResult(error),
        retryable: error instanceof AdapterError && error.isRetryable,
        ...(error instanceof AdapterError && error.retryAfter !== undefined ? { retryAfter: error.retryAfter } : {}),
      };
    }
  }

  return {
    async send(message, target, source = 'send') {
      const { channel, tenant } = message;
      const first = checkOutboxGuards(deps.guards, { target });
      if (!first.allowed) {
        skipped(channel, first.reason);
        metrics.sends.inc({ status: first.code, channel });
        return { status: first.httpStatus, body: { ok: false, error: first.code } };
      }
      const lead = await leadOf(message, target);
      const decision = checkOutboxGuards(deps.guards, { target, lead: lead?.state });
      if (!decision.allowed) {
        skipped(channel, decision.reason);
        metrics.sends.inc({ status: decision.code, channel });
        return { status: decision.httpStatus, body: { ok: false, error: decision.code } };
      }
      const warnings = decision.warnings.map((w) => w.code);
      if (warnings.includes(ErrorCodes.noLead)) {
        logger.warn(
          { event: 'send_result', status: 'warning', reason: ErrorCodes.noLead, channel, tenant },
          'degraded',
        );
      }

      const idem = message.client_msg_id;
      if (idem !== undefined) {
        const claim = await store.claimSend(tenant, channel, idem);
        if (claim.kind === 'done') {
          metrics.sends.inc({ status: 'duplicate', channel });
          return { status: claim.httpStatus, body: { ...claim.result, duplicate: true } };
        }
        if (claim.kind === 'pending') return { status: 409, body: { ok: false, error: 'send_in_progress' } };
      }
      let outcome: Awaited<ReturnType<typeof deliver>>;
      try {
        outcome = await deliver(message, warnings);
      } catch (error) {
        if (idem !== undefined) await store.releaseSend(tenant, channel, idem).catch(() => undefined);
        throw error;
      }
      if (idem !== undefined) {
        // A retryable failure is forgotten so the caller's retry is attempted; anything else is replayed.
        if (outcome.retryable) await store.releaseSend(tenant, channel, idem);
        else await store.completeSend(tenant, channel, idem, outcome.status, outcome.body);
      }
      metrics.sends.inc({ status: outcome.status === 200 ? 'sent' : 'failed', channel });
      if (outcome.status === 200 && lead?.state === 'found') {
        const messageId = typeof outcome.body.message_id === 'string' ? outcome.body.message_id : null;
        await deps.contacts
          .addMessage(deps.contacts.db, tenant, lead.leadId, 'out', message.text ?? null, source, messageId)
          .catch((err) => logger.warn({ err, tenant }, 'outgoing message not filed'));
      }
      const { retryable: _retryable, ...answer } = outcome;
      return answer;
    },
  };
}
