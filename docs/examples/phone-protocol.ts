// Examples from docs/guides/phone-protocol.md. They are only typechecked (`pnpm typecheck`), never run.
// In your code import from '@callbridge/phone-protocol' and '@callbridge/phone-protocol/express'; the relative
// paths below point at the same files the package's `@callbridge/source` export condition resolves to.
import { createPhoneRouter } from '../../packages/phone-protocol/src/express.js';
import {
  createPhoneProtocol,
  createUser,
  InMemoryCommandBus,
  InMemoryDeviceRegistry,
  InMemoryQrTokenStore,
  InMemoryUserStore,
  PhoneClient,
  type PhoneCommand,
  type PhoneProtocol,
  PhoneProtocolError,
  type PhoneProtocolOptions,
  type PhoneTokens,
  type PullResult,
  runSimulation,
  systemClock,
} from '../../packages/phone-protocol/src/index.js';
import {
  RedisCommandBus,
  RedisDeviceRegistry,
  RedisLoginAttemptStore,
  RedisQrTokenStore,
  RedisRevokedTokenStore,
  type RedisStoreOptions,
  RedisUserStore,
} from '../../packages/phone-protocol/src/redis.js';
import { createManualClock } from '../../packages/phone-protocol/src/testing/index.js';

/** An ioredis client (`new Redis(url)` from 'ioredis'); the repository root does not depend on ioredis itself. */
export type Redis = RedisStoreOptions['redis'];

/** The part of an Express 5 app used below (`express()` fits); the repository root does not depend on express. */
export interface ExpressApp {
  set(setting: string, value: unknown): unknown;
  use(router: ReturnType<typeof createPhoneRouter>): unknown;
}

// --- 1. Stores: one instance in memory, several on Redis --------------------------------------------------------

/** The four required ports, in process memory: one server instance, state lost on restart. */
export function memoryPorts(): Pick<PhoneProtocolOptions, 'users' | 'devices' | 'commands' | 'qrTokens'> {
  return {
    users: new InMemoryUserStore(),
    devices: new InMemoryDeviceRegistry(),
    commands: new InMemoryCommandBus({
      clock: systemClock,
      ackTimeoutMs: 120_000, // re-deliver a command not acknowledged within 2 minutes
      maxDeliveries: 5, // then give up on it
      onDeadLetter: (command) => console.error('call command dropped after 5 deliveries', command.id),
    }),
    qrTokens: new InMemoryQrTokenStore(),
  };
}

/** The same ports on Redis, shared by every server instance. */
export async function redisPorts(redis: Redis) {
  const keyPrefix = 'callbridge:phone:';
  const commands = new RedisCommandBus({
    redis,
    keyPrefix,
    clock: systemClock,
    onDeadLetter: (command) => console.error('call command dropped after 5 deliveries', command.id),
  });
  await commands.ready(); // opens the bus' own pub/sub connection (redis.duplicate()) for wake-ups
  return {
    users: new RedisUserStore({ redis, keyPrefix }),
    devices: new RedisDeviceRegistry({ redis, keyPrefix }),
    commands,
    qrTokens: new RedisQrTokenStore({ redis, keyPrefix }),
    loginAttempts: new RedisLoginAttemptStore({ redis, keyPrefix }),
    revokedTokens: new RedisRevokedTokenStore({ redis, keyPrefix }),
  };
}

// --- 2. The protocol and the Express router -------------------------------------------------------------------

export async function createPhoneApi(redis: Redis | undefined, jwtSecret: string): Promise<PhoneProtocol> {
  const { loginAttempts, revokedTokens, ...ports } = redis
    ? await redisPorts(redis)
    : { ...memoryPorts(), loginAttempts: undefined, revokedTokens: undefined }; // defaults: per process
  return createPhoneProtocol({
    ...ports,
    auth: { secret: jwtSecret, rotateRefreshTokens: true }, // secret: >= 32 characters, HS256
    ...(revokedTokens ? { revokedTokens } : {}),
    ...(loginAttempts ? { loginThrottle: { store: loginAttempts } } : {}), // on by default: 5 / 50 per 15 min
    pull: { defaultWaitSeconds: 25, maxWaitSeconds: 30, rateLimit: { burst: 10, intervalMs: 1_000 } },
    onCallResult: async ({ user, update, command }) => {
      // Runs before the ack: throw (e.g. the database is down) and the device gets 503 and sends it again.
      console.log(user.username, update.call_request_id, update.call_status, command?.phone);
    },
    logger: console,
  });
}

export function mountPhoneApi(app: ExpressApp, phone: PhoneProtocol): void {
  app.set('trust proxy', 1); // behind one reverse proxy: req.ip is the device, not the proxy (login brake)
  app.use(createPhoneRouter(phone)); // the routes carry their full paths (/api/token/, /api/phone/...): mount at the root
}

export async function addOperator(users: PhoneProtocolOptions['users'], password: string) {
  await createUser(users, { id: '1', username: 'operator1', password }); // scrypt hash, never the password
}

// --- 3. Click-to-call ----------------------------------------------------------------------------------------

/** The CRM's "call this number" button. */
export async function clickToCall(phone: PhoneProtocol, username: string, number: string, crmCallId: string) {
  try {
    const command: PhoneCommand = await phone.enqueueCommand(
      { username }, // or { userId } / { deviceId }: a user's most recently seen device gets it
      { phone: number, id: crmCallId, extra: { customer: 'Ivan Petrov' } },
    );
    return { ok: true as const, commandId: command.id };
  } catch (error) {
    // unknown_user, no_device (the operator never registered a phone), invalid_command (empty phone)
    if (error instanceof PhoneProtocolError) return { ok: false as const, error: error.code };
    throw error;
  }
}

export async function shutdownPhoneApi(phone: PhoneProtocol, commands: { close(): Promise<void> }) {
  await phone.close(); // answers every held poll with 204: devices poll again, on another instance
  await commands.close(); // the protocol does not close the ports it was given
}

// --- 4. PhoneClient: a device, or a test ---------------------------------------------------------------------

export async function runDevice(password: string, saved: PhoneTokens | undefined, signal: AbortSignal) {
  const client = new PhoneClient({
    baseUrl: 'https://crm.example.com',
    deviceId: 'ab12cd34',
    deviceName: 'Redmi Note 12',
    appVersion: '1.0.0',
    heartbeatEveryPolls: 10,
    ...(saved ? { tokens: saved } : {}),
    onTokens: (tokens) => console.log('persist tokens', Object.keys(tokens)),
  });
  if (!client.session) await client.login('operator1', password);
  await client.registerDevice();
  while (!signal.aborted) {
    let result: PullResult | undefined;
    try {
      result = await client.pollOnce({ waitSeconds: 25, signal }); // first sleeps out any backoff
    } catch (error) {
      // 5xx / network error: the backoff is already scheduled, the next pollOnce waits it out.
      if (error instanceof PhoneProtocolError && error.isRetryable) continue;
      throw error; // PhoneAuthError: the session is gone, log in again
    }
    if (result?.status !== 'command') continue; // 'empty' (204), 'rate_limited' (429) or aborted
    const { format, acknowledged } = await client.sendCallResult({
      callRequestId: result.command.id,
      status: 'connected',
      startedAt: new Date().toISOString(),
      durationSeconds: 42,
      actionSource: 'crm_ui', // any extended field -> the extended payload (legacy fallback on 400/415/422)
    });
    console.log(format, acknowledged, client.metrics);
  }
}

/** A test: in-memory ports, the framework-free `handle()` and a fake `fetch`, no sockets. */
export async function commandRoundTrip() {
  const clock = createManualClock(); // give the same clock to the protocol and to the command bus (ack deadlines)
  const users = new InMemoryUserStore();
  const phone = createPhoneProtocol({
    auth: { secret: 'x'.repeat(32) },
    clock,
    users,
    devices: new InMemoryDeviceRegistry(),
    commands: new InMemoryCommandBus({ clock }),
    qrTokens: new InMemoryQrTokenStore(),
    loginThrottle: false,
  });
  await createUser(users, { id: '1', username: 'operator1', password: 'operator-password' });

  const fetchViaHandle: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const response = await phone.handle({
      method: init?.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    });
    const body = response.body === undefined ? null : JSON.stringify(response.body);
    return new Response(body, { status: response.status, headers: response.headers });
  };

  const client = new PhoneClient({ baseUrl: 'http://phone.test', deviceId: 'dev-1', fetch: fetchViaHandle, clock });
  await client.login('operator1', 'operator-password');
  await client.registerDevice();
  await phone.enqueueCommand({ username: 'operator1' }, { phone: '+79991234567', id: 'crm-42' });
  const pulled = await client.pull({ waitSeconds: 0 }); // immediate check: { status: 'command', command }
  const result = await client.sendCallResult({ callRequestId: 'crm-42', status: 'no_answer' });
  await phone.close();
  return { pulled, result }; // result: { format: 'legacy', acknowledged: true }
}

// --- 5. The simulator, programmatically -----------------------------------------------------------------------

export async function simulate(password: string) {
  const summary = await runSimulation({
    baseUrl: 'http://127.0.0.1:3000',
    username: 'operator{i}', // operator1, operator2, ...: one account per device
    password,
    devices: 50,
    durationSeconds: 60,
    onProgress: (progress) => process.stderr.write(`\r${progress.devicesOnline} online`),
  });
  return summary; // devicesOnline, polls, commands, results, 429s, refreshes, errors, latency percentiles
}
