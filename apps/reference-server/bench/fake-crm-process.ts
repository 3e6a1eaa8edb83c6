import { type FakeCrmServer, startFakeCrmServer } from '../test/support/fake-crm-server.js';

/**
 * The delivery bench's fake RetailCRMs in their own process (started with an IPC channel): FAKE_CRM_COUNT accounts,
 * each its own API key and loopback port, answering after 20-50 ms, RetailCRM's per-key limits enforced. Messages:
 * `report` -> what each fake received; `close` -> stops and exits.
 */
export interface FakeCrmReport {
  uploads: string[];
  cards: string[];
  hangups: string[];
  uploadRequests: number;
  rateLimited: number;
}

const count = Number(process.env.FAKE_CRM_COUNT ?? 1);
const fakes: FakeCrmServer[] = await Promise.all(
  Array.from({ length: count }, () =>
    startFakeCrmServer({
      rateLimit: { perSecond: 10, telephonyPerSecond: 40 },
      latencyMs: () => 20 + Math.random() * 30,
    }),
  ),
);

const report = (): FakeCrmReport[] =>
  fakes.map(({ fake: { state } }) => ({
    uploads: state.uploadedCalls.map((c) => String(c.externalId)),
    cards: state.callEvents.filter((c) => c.type === 'in').map((c) => String(c.callExternalId)),
    hangups: state.callEvents.filter((c) => c.type === 'hangup').map((c) => String(c.callExternalId)),
    uploadRequests: state.requests.filter((r) => r.path === '/telephony/calls/upload' && r.status === 200).length,
    rateLimited: state.requests.filter((r) => r.status === 503).length,
  }));

process.on('message', (message: { type: string }) => {
  if (message.type === 'report') process.send?.({ type: 'report', report: report() });
  if (message.type === 'close') {
    Promise.all(fakes.map((f) => f.close())).finally(() => process.exit(0));
  }
});
process.send?.({ type: 'ready', fakes: fakes.map((f) => ({ url: f.url, apiKey: f.fake.apiKey })) });
