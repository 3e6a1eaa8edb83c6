/**
 * Bench helper (child process): the fake RetailCRM as a real HTTP server, stamping each request when it arrives.
 * Parent messages: `{type:'report'}` -> `{type:'report', arrivals:[[at, status, telephony]]}`; `{type:'stop'}`.
 */
import { startFakeRetailCrmServer } from '../src/testing/index.js';

const now = () => performance.timeOrigin + performance.now();

async function main() {
  const server = await startFakeRetailCrmServer({
    users: [{ id: 1 }],
    clock: { now },
    rateLimit: { perSecond: 10, telephonyPerSecond: 40 },
  });
  process.on('message', async (message: { type: string }) => {
    if (message.type === 'report') {
      const arrivals = server.state.requests.map((request) => [
        request.at,
        request.status,
        request.path.startsWith('/telephony/') ? 1 : 0,
      ]);
      process.send?.({ type: 'report', arrivals });
    } else if (message.type === 'reset') {
      server.fake.reset();
      process.send?.({ type: 'reset' });
    } else if (message.type === 'stop') {
      await server.close();
      process.exit(0);
    }
  });
  process.send?.({ type: 'ready', url: server.url, apiKey: server.fake.apiKey });
}

void main();
