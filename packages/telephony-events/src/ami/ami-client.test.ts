import { afterEach, describe, expect, it } from 'vitest';
import { type ScriptedAmiPeer, startScriptedAmiPeer } from '../testing/ami-peer.js';
import { type AmiClientOptions, type AmiStatus, createAmiClient } from './ami-client.js';
import { AmiActionError, AmiAuthError, AmiConnectionError, AmiTimeoutError } from './errors.js';
import { type AmiMessage, AmiParser, field, serializeAction } from './protocol.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function waitFor(predicate: () => boolean, timeoutMs = 3000) {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function setup(
  peerOptions: Parameters<typeof startScriptedAmiPeer>[0] = {},
  clientOptions: Partial<AmiClientOptions> = {},
) {
  const peer = await startScriptedAmiPeer(peerOptions);
  const client = createAmiClient({
    host: '127.0.0.1',
    port: peer.port,
    username: 'admin',
    secret: 'amp111',
    pingIntervalMs: 0,
    actionTimeoutMs: 1000,
    reconnect: { initialDelayMs: 10, maxDelayMs: 40 },
    random: () => 1,
    ...clientOptions,
  });
  const statuses: AmiStatus[] = [];
  client.onStatus((s) => statuses.push(s));
  cleanups.push(async () => {
    await client.close();
    await peer.close();
  });
  return { peer, client, statuses };
}

const actionsNamed = (peer: ScriptedAmiPeer, name: string) =>
  peer.actions.filter((a) => field(a.action, 'Action')?.toLowerCase() === name.toLowerCase());

describe('AMI wire format', () => {
  it('serialises CRLF lines with a blank-line terminator and refuses line injection', () => {
    expect(serializeAction({ Action: 'Ping', ActionID: '1', Skip: undefined })).toBe(
      'Action: Ping\r\nActionID: 1\r\n\r\n',
    );
    expect(serializeAction({ Variable: ['A=1', 'B=2'] })).toBe('Variable: A=1\r\nVariable: B=2\r\n\r\n');
    expect(() => serializeAction({ Channel: 'SIP/1\r\nAction: Hangup' })).toThrow(/line break/);
    expect(() => serializeAction({ Channel: 'SIP/1\nX' })).toThrow(
      expect.objectContaining({ code: 'ami_invalid_field' }),
    );
  });

  it('parses the banner and blocks split across chunks, with repeated keys and bare LF', () => {
    const banners: string[] = [];
    const messages: AmiMessage[] = [];
    const parser = new AmiParser(
      (b) => banners.push(b),
      (m) => messages.push(m),
    );
    const stream =
      'Asterisk Call Manager/7.0.3\r\nResponse: Success\r\nActionID: a\r\nMessage: x: y\r\n\r\nEvent: V\nVariable: A=1\nVariable: B=2\n\n';
    for (const char of stream) parser.push(char);
    expect(banners).toEqual(['Asterisk Call Manager/7.0.3']);
    expect(messages).toEqual([
      { Response: 'Success', ActionID: 'a', Message: 'x: y' },
      { Event: 'V', Variable: ['A=1', 'B=2'] },
    ]);
  });
});

describe('AMI client against a scripted peer', () => {
  it('reads the banner, logs in with Events: off and answers Ping with Pong', async () => {
    const { peer, client, statuses } = await setup();
    await client.connect();
    expect(client.isConnected()).toBe(true);
    expect(statuses[0]).toEqual({ state: 'connected', banner: 'Asterisk Call Manager/7.0.3' });
    const login = actionsNamed(peer, 'Login')[0]?.action;
    expect(login).toMatchObject({ Action: 'Login', Username: 'admin', Secret: 'amp111', Events: 'off' });
    const pong = await client.action({ Action: 'Ping' });
    expect(pong).toMatchObject({ Response: 'Success', Ping: 'Pong' });
    expect(field(pong, 'ActionID')).toBe(field(actionsNamed(peer, 'Ping')[0]?.action ?? {}, 'ActionID'));
  });

  it('Events: on when asked, and events are delivered to listeners', async () => {
    const { peer, client } = await setup({}, { events: true });
    const events: AmiMessage[] = [];
    client.onEvent((e) => events.push(e));
    await client.connect();
    expect(actionsNamed(peer, 'Login')[0]?.action.Events).toBe('on');
    peer.sendEvent({ Event: 'Newchannel', Channel: 'SIP/151-00000001', Uniqueid: '1700.1' });
    await waitFor(() => events.length === 1);
    expect(events[0]).toMatchObject({ Event: 'Newchannel', Channel: 'SIP/151-00000001' });
  });

  it('correlates responses by ActionID when answers come out of order between events', async () => {
    const ids: string[] = [];
    const { client } = await setup({
      handle: (action, self) => {
        if (field(action, 'Action') !== 'Status') return undefined;
        ids.push(field(action, 'ActionID') ?? '');
        if (ids.length < 2) return 'silent';
        // Answer the second first, with events interleaved, one frame split mid-line.
        const text =
          serializeAction({ Event: 'Hold', Channel: 'SIP/1' }) +
          serializeAction({ Response: 'Success', ActionID: ids[1] ?? '', Which: 'second' }) +
          serializeAction({ Event: 'Unhold', Channel: 'SIP/1' }) +
          serializeAction({ Response: 'Success', ActionID: ids[0] ?? '', Which: 'first' });
        self.writeRaw(text.slice(0, 50));
        setTimeout(() => self.writeRaw(text.slice(50)), 10);
        return 'silent';
      },
    });
    const events: string[] = [];
    client.onEvent((e) => events.push(String(e.Event)));
    await client.connect();
    const first = client.action({ Action: 'Status' });
    await waitFor(() => ids.length === 1);
    const second = client.action({ Action: 'Status' });
    expect((await first).Which).toBe('first');
    expect((await second).Which).toBe('second');
    expect(events).toEqual(['Hold', 'Unhold']);
  });

  it('rejects on Response: Error with the Message, and times out an unanswered action', async () => {
    const { peer, client } = await setup();
    await client.connect();
    await expect(client.action({ Action: 'NoSuchThing' })).rejects.toThrow(
      new AmiActionError('NoSuchThing', 'Invalid/unknown command', {}).message,
    );
    peer.silence('Status');
    const started = Date.now();
    const error = await client.action({ Action: 'Status' }, { timeoutMs: 60 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AmiTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    expect(client.isConnected()).toBe(true);
  });

  it('sends Redirect with Channel/Exten/Context/Priority and the Extra* leg', async () => {
    const { peer, client } = await setup();
    await client.connect();
    await client.redirect({ channel: 'SIP/trunk-0000001', exten: '151', context: 'from-internal' });
    await client.redirect({
      channel: 'SIP/trunk-0000002',
      exten: '152',
      context: 'from-internal',
      priority: 2,
      extraChannel: 'SIP/150-0000003',
    });
    const [one, two] = actionsNamed(peer, 'Redirect').map((a) => a.action);
    expect(one).toMatchObject({ Channel: 'SIP/trunk-0000001', Exten: '151', Context: 'from-internal', Priority: '1' });
    expect(one).not.toHaveProperty('ExtraChannel');
    expect(two).toMatchObject({
      Channel: 'SIP/trunk-0000002',
      ExtraChannel: 'SIP/150-0000003',
      ExtraExten: '152',
      ExtraContext: 'from-internal',
      ExtraPriority: '2',
    });
    await expect(client.redirect({ channel: 'Local/x', exten: '1', context: 'c' })).rejects.toThrow(
      /Channel specified does not exist/,
    );
  });

  it('sends Originate (async, variables) and surfaces the OriginateResponse event', async () => {
    const { peer, client } = await setup();
    const events: AmiMessage[] = [];
    client.onEvent((e) => events.push(e));
    await client.connect();
    const response = await client.originate({
      channel: 'PJSIP/151',
      exten: '79001234567',
      context: 'from-internal',
      callerId: 'Click to call <151>',
      timeoutMs: 30_000,
      variables: { CRM_CALL: '1', CLIENT_ID: '0367' },
    });
    expect(response.Message).toBe('Originate successfully queued');
    expect(actionsNamed(peer, 'Originate')[0]?.action).toMatchObject({
      Channel: 'PJSIP/151',
      Exten: '79001234567',
      Context: 'from-internal',
      Priority: '1',
      CallerID: 'Click to call <151>',
      Timeout: '30000',
      Async: 'true',
      Variable: ['CRM_CALL=1', 'CLIENT_ID=0367'],
    });
    await waitFor(() => events.length === 1);
    expect(events[0]).toMatchObject({ Event: 'OriginateResponse', Channel: 'PJSIP/151' });
  });

  it('reconnects with capped exponential backoff after the peer drops, failing pending actions', async () => {
    const { peer, client, statuses } = await setup();
    await client.connect();
    peer.silence('Status');
    const pending = client.action({ Action: 'Status' });
    peer.refuseNext(4);
    peer.dropAll();
    await expect(pending).rejects.toBeInstanceOf(AmiConnectionError);
    await expect(client.action({ Action: 'Ping' })).rejects.toBeInstanceOf(AmiConnectionError);
    await waitFor(() => client.isConnected());
    const delays = statuses.filter((s) => s.state === 'reconnecting').map((s) => s.delayMs);
    expect(delays).toEqual([10, 20, 40, 40, 40]);
    expect(statuses.filter((s) => s.state === 'connected')).toHaveLength(2);
    expect(peer.connectionCount()).toBe(6);
    expect(actionsNamed(peer, 'Login')).toHaveLength(2);
    await expect(client.action({ Action: 'Ping' })).resolves.toMatchObject({ Ping: 'Pong' });
    // After a successful login the backoff starts from the beginning again.
    peer.dropAll();
    await waitFor(() => statuses.filter((s) => s.state === 'connected').length === 3);
    expect(statuses.filter((s) => s.state === 'reconnecting').at(-1)?.delayMs).toBe(10);
  });

  it('Ping heartbeat detects a silent peer and re-establishes the session', async () => {
    const { peer, client, statuses } = await setup({}, { pingIntervalMs: 100 });
    await client.connect();
    await waitFor(() => actionsNamed(peer, 'Ping').length >= 2);
    expect(peer.connectionCount()).toBe(1);
    peer.silence('Ping');
    await waitFor(() => statuses.some((s) => s.state === 'disconnected' && s.reason === 'heartbeat failed'));
    peer.silence('Ping', false);
    await waitFor(() => client.isConnected() && peer.connectionCount() >= 2);
    expect(actionsNamed(peer, 'Login').length).toBeGreaterThanOrEqual(2);
  });

  it('wrong credentials: rejects with AmiAuthError, does not retry, never echoes the secret', async () => {
    const { peer, client, statuses } = await setup({ secret: 'right-secret' }, { secret: 'wrong-secret-value' });
    const error = await client.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AmiAuthError);
    expect(String((error as Error).message)).toBe('AMI login failed: Authentication failed');
    expect(String((error as Error).message)).not.toContain('wrong-secret-value');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(peer.connectionCount()).toBe(1);
    expect(statuses.map((s) => s.state)).toEqual(['auth_failed']);
  });

  it('close() logs off and stops reconnecting', async () => {
    const { peer, client } = await setup();
    await client.connect();
    await client.close();
    expect(actionsNamed(peer, 'Logoff')).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(peer.connectionCount()).toBe(1);
    await expect(client.action({ Action: 'Ping' })).rejects.toBeInstanceOf(AmiConnectionError);
  });

  it('a field with a line break rejects the action (no synchronous throw, nothing written to the PBX)', async () => {
    const { peer, client } = await setup();
    await client.connect();
    const sent = peer.actions.length;
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = client.redirect({ channel: 'SIP/151-0001\r\nAction: Hangup', exten: '151', context: 'from-internal' });
    }).not.toThrow();
    await expect(promise).rejects.toMatchObject({ code: 'ami_invalid_field' });
    expect(peer.actions.length).toBe(sent);
    expect(client.isConnected()).toBe(true);
  });

  it('a secret with a line break fails the login as AmiAuthError instead of crashing the process', async () => {
    const { peer, client, statuses } = await setup({}, { secret: 'bad\r\nsecret' });
    const error = await client.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AmiAuthError);
    expect((error as Error).message).not.toContain('secret\r');
    expect(peer.connectionCount()).toBe(1);
    expect(statuses.map((s) => s.state)).toEqual(['auth_failed']);
  });

  it('a throwing status listener does not break the client', async () => {
    const { client } = await setup();
    client.onStatus(() => {
      throw new Error('listener bug');
    });
    await client.connect();
    expect(client.isConnected()).toBe(true);
  });
});
