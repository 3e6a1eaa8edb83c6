import {
  type DeliveryJob,
  type DeliveryQueue,
  idempotencyKey,
  type TelephonyEvent,
  telephonyEventSchema,
} from '@callbridge/telephony-events';
import type { Request, RequestHandler, Router } from 'express';
import { z } from 'zod';
import { HttpError, notFound } from '../errors.js';
import type { RetailCrmService } from '../retailcrm/service.js';
import type { DeadLetter, Storage } from '../storage/types.js';
import { DELIVERY_QUEUE } from '../telephony.js';
import { createPayloadMasker } from './masking.js';

/** A re-sent job that has not dead-lettered again within this long is taken as still queued (or delivered). */
export const DEFAULT_RESEND_PENDING_MS = 15 * 60_000;

export interface DeadLetterRoutesDeps {
  storage: Storage;
  service: RetailCrmService;
  forEnterprise: RequestHandler;
  enterpriseParam: (req: Request) => string;
  /** Where a re-sent delivery goes: the telephony queue (absent: re-send answers 503). */
  deliveryQueue?: Pick<DeliveryQueue, 'enqueue'>;
  resendPendingMs?: number;
}

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
});

const idParam = (req: Request): number => {
  const raw = req.params.id;
  const id = typeof raw === 'string' && /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(id)) throw new HttpError(400, 'invalid_id', 'a dead-letter id is a positive integer');
  return id;
};

const field = (value: unknown, key: string): unknown =>
  value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** The list shape of the contract; call id and event type come from the stored job's event when it has one. */
function summary(d: DeadLetter) {
  const event = d.payload;
  return {
    id: d.id,
    queue: d.queue,
    enterprise_number: d.enterpriseNumber,
    job_id: d.jobId,
    call_unique_id: text(field(field(event, 'payload'), 'UniqueId')) ?? text(field(event, 'externalId')),
    event_type: text(field(event, 'event_type')),
    error_message: d.errorMessage,
    attempts: d.attempts,
    created_at: d.createdAt,
    resent_at: d.resentAt,
  };
}

/** The telephony delivery a dead letter stands for, or undefined when it is not one this server can re-send. */
function deliveryOf(d: DeadLetter, enterpriseNumber: string): { event: TelephonyEvent; crm: string } | undefined {
  if (d.queue !== DELIVERY_QUEUE) return undefined;
  const parsed = telephonyEventSchema.safeParse(d.payload);
  if (!parsed.success || parsed.data.enterprise_number !== enterpriseNumber) return undefined;
  const event = parsed.data;
  // Job ids are `<enterprise>|<UniqueId>|<event type>|<crm>[|resend-...]`.
  const prefix = `${idempotencyKey(event.enterprise_number, event.payload.UniqueId, event.event_type)}|`;
  const crm = d.jobId?.startsWith(prefix) ? d.jobId.slice(prefix.length).split('|')[0] : undefined;
  return { event, crm: crm || 'retailcrm' };
}

/**
 * Dead letters of one enterprise (contract shared with the delivery work): list, detail (payload masked) and
 * re-send. Re-send is idempotent: while an earlier re-send of the same dead letter may still be queued, another
 * one answers the same 202 without enqueueing again. Another enterprise's id is a 404.
 */
export function registerDeadLetterRoutes(r: Router, deps: DeadLetterRoutesDeps): void {
  const { storage, forEnterprise, enterpriseParam } = deps;
  const pendingMs = deps.resendPendingMs ?? DEFAULT_RESEND_PENDING_MS;

  r.get('/dead-letters/:enterpriseNumber', forEnterprise, async (req, res) => {
    const parsed = listQuery.safeParse(req.query);
    if (!parsed.success) {
      throw new HttpError(400, 'invalid_query', parsed.error.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    }
    const items = await storage.listEnterpriseDeadLetters({ enterpriseNumber: enterpriseParam(req), ...parsed.data });
    res.json({ ok: true, items: items.map(summary) });
  });

  r.get('/dead-letters/:enterpriseNumber/:id', forEnterprise, async (req, res) => {
    const n = enterpriseParam(req);
    const item = await storage.getEnterpriseDeadLetter(n, idParam(req));
    if (!item) throw notFound('dead letter');
    const mask = await createPayloadMasker(deps.service, n);
    res.json({
      ok: true,
      item: { ...summary(item), payload: mask(item.payload), resendable: deliveryOf(item, n) !== undefined },
    });
  });

  r.post('/dead-letters/:enterpriseNumber/:id/resend', forEnterprise, async (req, res) => {
    const n = enterpriseParam(req);
    const id = idParam(req);
    const existing = await storage.getEnterpriseDeadLetter(n, id);
    if (!existing) throw notFound('dead letter');
    const delivery = deliveryOf(existing, n);
    if (!delivery) {
      throw new HttpError(409, 'not_resendable', `dead letters of queue ${existing.queue} cannot be re-sent from here`);
    }
    if (!deps.deliveryQueue) {
      throw new HttpError(503, 'resend_unavailable', 'event delivery is not running on this server');
    }
    const claim = await storage.claimDeadLetterResend(n, id, pendingMs);
    if (claim.status === 'not_found') throw notFound('dead letter');
    if (claim.status === 'pending') {
      res.status(202).json({ ok: true, id, status: 'queued', resent_at: claim.item.resentAt, duplicate: true });
      return;
    }
    const { event, crm } = delivery;
    const job: DeliveryJob = {
      // A new id per re-send: the queue would drop the original id as a duplicate inside its window.
      id: `${idempotencyKey(n, event.payload.UniqueId, event.event_type)}|${crm}|resend-${id}-${claim.item.resendCount}`,
      enterpriseNumber: n,
      crm,
      // A replay: history is delivered again, but no call card pops up for a call that ended long ago.
      event: { ...event, origin: 'resend' } as TelephonyEvent,
      receivedAt: Date.now(),
    };
    try {
      await deps.deliveryQueue.enqueue(job);
    } catch (err) {
      await storage.releaseDeadLetterResend(id, claim.item.resendCount);
      throw new HttpError(
        503,
        'queue_unavailable',
        `the delivery queue did not take the job (${err instanceof Error ? err.message : String(err)}); try again`,
      );
    }
    res.status(202).json({ ok: true, id, status: 'queued', resent_at: claim.item.resentAt });
  });
}
