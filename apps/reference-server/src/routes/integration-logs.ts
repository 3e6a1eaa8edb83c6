import type { Request, RequestHandler, Router } from 'express';
import { HttpError } from '../errors.js';
import { logsQuerySchema, phoneFilterDigits } from '../retailcrm/config-schema.js';
import type { RetailCrmService } from '../retailcrm/service.js';
import type { IntegrationLog, Storage } from '../storage/types.js';
import { createPayloadMasker } from './masking.js';

export interface IntegrationLogRoutesDeps {
  storage: Storage;
  service: RetailCrmService;
  forEnterprise: RequestHandler;
  enterpriseParam: (req: Request) => string;
}

/** A log row as the admin API shows it (snake_case like the rest of the API; payloads masked). */
function present(log: IntegrationLog, mask: <T>(v: T) => T) {
  return {
    id: log.id,
    integration_type: log.integrationType,
    event_type: log.eventType,
    call_unique_id: log.callUniqueId,
    direction: log.direction ?? null,
    phone: log.phone ?? null,
    status: log.status,
    error_message: log.errorMessage,
    duration_ms: log.durationMs,
    created_at: log.createdAt,
    request_data: mask(log.requestData),
    response_data: mask(log.responseData),
  };
}

/**
 * `GET /logs/:enterpriseNumber`: newest first, filtered by call id, phone, event, status and time range.
 * A bad filter is a 400 `invalid_query` naming the field, never a database error.
 */
export function registerIntegrationLogRoutes(r: Router, deps: IntegrationLogRoutesDeps): void {
  r.get('/logs/:enterpriseNumber', deps.forEnterprise, async (req, res) => {
    const n = deps.enterpriseParam(req);
    const parsed = logsQuerySchema.safeParse(req.query);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      throw new HttpError(
        400,
        'invalid_query',
        details.map((d) => `${d.path || 'query'}: ${d.message}`).join('; '),
        details,
      );
    }
    const q = parsed.data;
    const { items, total } = await deps.storage.listIntegrationLogs({
      enterpriseNumber: n,
      integrationType: q.integration_type,
      eventType: q.event ?? q.event_type,
      status: q.status,
      callUniqueId: q.call_id ?? q.call_unique_id,
      phoneDigits: q.phone === undefined ? undefined : phoneFilterDigits(q.phone),
      since: q.since,
      until: q.until,
      limit: q.limit,
      offset: q.offset,
    });
    const mask = await createPayloadMasker(deps.service, n);
    res.json({ ok: true, total, limit: q.limit, offset: q.offset, items: items.map((l) => present(l, mask)) });
  });
}
