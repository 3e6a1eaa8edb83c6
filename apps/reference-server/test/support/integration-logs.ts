import type { Storage } from '../../src/storage/types.js';

/**
 * Two integration-log rows the logs views and filters are tested on: an incoming call event to +79991234567
 * (success) and an outgoing call upload to +74951112233 that failed, whose request carries `apiKey` (to be masked).
 */
export async function insertCallLogs(
  storage: Storage,
  o: { enterpriseNumber: string; incomingCallId: string; failedCallId: string; apiKey: string },
): Promise<void> {
  await storage.insertIntegrationLog({
    enterpriseNumber: o.enterpriseNumber,
    integrationType: 'retailcrm',
    eventType: 'dial',
    status: 'success',
    callUniqueId: o.incomingCallId,
    requestData: {
      operation: 'callEvent',
      data: { phone: '+79991234567', type: 'in', callExternalId: o.incomingCallId },
    },
    responseData: { success: true },
    durationMs: 120,
  });
  await storage.insertIntegrationLog({
    enterpriseNumber: o.enterpriseNumber,
    integrationType: 'retailcrm',
    eventType: 'hangup',
    status: 'error',
    callUniqueId: o.failedCallId,
    requestData: {
      operation: 'callsUpload',
      data: { calls: [{ phone: '+74951112233', type: 'out', externalId: o.failedCallId }] },
      api_key: o.apiKey,
      url: `https://demo.retailcrm.ru/api/v5/telephony/calls/upload?apiKey=${o.apiKey}`,
    },
    errorMessage: 'RetailCRM answered 400',
    durationMs: 80,
  });
}
