import type { Logger } from 'pino';
import type { IntegrationLogWriter } from '../egress/integration-log.js';
import type { PhoneDialer } from './module.js';

export interface PhoneCallRequest {
  enterpriseNumber: string;
  extension: string;
  /** RetailCRM `userId` of the callback, else the owner of `extension` in user_extensions. */
  retailcrmUserId: string | undefined;
  userExtensions: Readonly<Record<string, string | null>>;
  phone: string;
}

/**
 * make-call through the manager's phone app: queues a command for the device bound to the extension.
 * Returns the response body, or `undefined` when there is no usable device (or the queue failed), so the
 * caller falls back to AMI Originate.
 */
export async function dialViaPhone(
  deps: { dialer: PhoneDialer; integrationLog: IntegrationLogWriter; logger: Pick<Logger, 'error'> },
  r: PhoneCallRequest,
): Promise<{ ok: true; success: true; extension: string; via: 'phone'; command_id: string } | undefined> {
  const retailcrmUserId =
    r.retailcrmUserId ?? Object.entries(r.userExtensions).find(([, ext]) => ext === r.extension)?.[0] ?? null;
  const started = performance.now();
  let dialed: Awaited<ReturnType<PhoneDialer['dial']>>;
  try {
    dialed = await deps.dialer.dial({
      enterpriseNumber: r.enterpriseNumber,
      extension: r.extension,
      retailcrmUserId,
      phone: r.phone,
    });
  } catch (err) {
    deps.logger.error(
      { err, enterpriseNumber: r.enterpriseNumber, extension: r.extension },
      'phone click-to-call failed, falling back to the PBX',
    );
    return undefined;
  }
  if (!dialed) return undefined;
  await deps.integrationLog.write({
    enterpriseNumber: r.enterpriseNumber,
    eventType: 'make_call',
    operation: 'phone.dial',
    callUniqueId: dialed.commandId,
    data: { extension: r.extension, phone: r.phone, username: dialed.username },
    status: 'success',
    durationMs: performance.now() - started,
  });
  return { ok: true, success: true, extension: r.extension, via: 'phone', command_id: dialed.commandId };
}
