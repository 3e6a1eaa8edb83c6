import { createServer, type Server, type Socket } from 'node:net';
import { type AmiMessage, AmiParser, field, serializeAction } from '../ami/protocol.js';

/** How {@link startScriptedAmiPeer} greets and whom it lets in. */
export interface ScriptedAmiPeerOptions {
  /** Greeting line sent on connect (default `Asterisk Call Manager/7.0.3`). */
  banner?: string;
  /** The only user `Login` accepts (default `admin`). */
  username?: string;
  /** That user's secret (default `amp111`, a test value). */
  secret?: string;
  /** Custom answer to an action: messages to write back (a Response should carry the ActionID), or 'silent'. */
  handle?: (action: AmiMessage, peer: ScriptedAmiPeer) => AmiMessage[] | 'silent' | undefined;
}

/** A running fake Asterisk for AMI tests; see {@link startScriptedAmiPeer}. */
export interface ScriptedAmiPeer {
  /** The TCP port it listens on (127.0.0.1, chosen by the OS). */
  readonly port: number;
  /** Every action received, with the 1-based connection number it arrived on. */
  readonly actions: Array<{
    /** 1-based number of the connection it came on. */
    connection: number;
    /** The action's fields as parsed. */
    action: AmiMessage;
  }>;
  /** Connections accepted so far, refused ones included. */
  connectionCount(): number;
  /** Writes an event block to every logged-in connection. */
  sendEvent(fields: Record<string, string>): void;
  /** Writes raw text to every connection (for split / interleaved frames). */
  writeRaw(text: string): void;
  /** Actions (by name, case-insensitive) that get no answer at all. */
  silence(action: string, silent?: boolean): void;
  /** Destroys every open connection (simulates the PBX dropping us). */
  dropAll(): void;
  /** The next `n` connections are closed right after accept, before the banner. */
  refuseNext(n: number): void;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/** An AMI peer on 127.0.0.1 speaking the real wire format (banner, CRLF, blank-line blocks) for tests. */
export async function startScriptedAmiPeer(options: ScriptedAmiPeerOptions = {}): Promise<ScriptedAmiPeer> {
  const banner = options.banner ?? 'Asterisk Call Manager/7.0.3';
  const sockets = new Set<Socket>();
  const loggedIn = new Set<Socket>();
  const silent = new Set<string>();
  const actions: Array<{ connection: number; action: AmiMessage }> = [];
  let connections = 0;
  let refuse = 0;

  const respond = (id: string | undefined, fields: Record<string, string>) => ({
    ...fields,
    ...(id !== undefined ? { ActionID: id } : {}),
  });

  const defaultAnswer = (action: AmiMessage, sock: Socket): AmiMessage[] => {
    const name = (field(action, 'Action') ?? '').toLowerCase();
    const id = field(action, 'ActionID');
    switch (name) {
      case 'login': {
        const ok =
          field(action, 'Username') === (options.username ?? 'admin') &&
          field(action, 'Secret') === (options.secret ?? 'amp111');
        if (!ok) return [respond(id, { Response: 'Error', Message: 'Authentication failed' })];
        loggedIn.add(sock);
        return [respond(id, { Response: 'Success', Message: 'Authentication accepted' })];
      }
      case 'ping':
        return [respond(id, { Response: 'Success', Ping: 'Pong', Timestamp: '1700000000.000000' })];
      case 'logoff':
        return [respond(id, { Response: 'Goodbye', Message: 'Thanks for all the fish.' })];
      case 'redirect':
        if (!field(action, 'Channel')?.startsWith('SIP/') && !field(action, 'Channel')?.startsWith('PJSIP/')) {
          return [respond(id, { Response: 'Error', Message: 'Channel specified does not exist' })];
        }
        return [respond(id, { Response: 'Success', Message: 'Redirect successful' })];
      case 'originate':
        return [
          respond(id, { Response: 'Success', Message: 'Originate successfully queued' }),
          respond(id, {
            Event: 'OriginateResponse',
            Response: 'Success',
            Channel: field(action, 'Channel') ?? '',
            Uniqueid: '1700000000.77',
          }),
        ];
      default:
        return [respond(id, { Response: 'Error', Message: 'Invalid/unknown command' })];
    }
  };

  const server: Server = createServer((sock) => {
    connections++;
    const connection = connections;
    if (refuse > 0) {
      refuse--;
      sock.destroy();
      return;
    }
    sockets.add(sock);
    sock.setEncoding('utf8');
    sock.on('close', () => {
      sockets.delete(sock);
      loggedIn.delete(sock);
    });
    sock.on('error', () => sock.destroy());
    const parser = new AmiParser(
      () => {},
      (action) => {
        actions.push({ connection, action });
        const name = (field(action, 'Action') ?? '').toLowerCase();
        if (silent.has(name)) return;
        const custom = options.handle?.(action, peer);
        if (custom === 'silent') return;
        // An OriginateResponse event carries Response + Event; write it as an event block.
        for (const message of custom ?? defaultAnswer(action, sock)) {
          sock.write(serializeAction(message as Record<string, string>));
        }
        if (name === 'logoff') sock.end();
      },
    );
    parser.push('peer\r\n'); // the peer receives no banner; skip the parser's banner line
    sock.on('data', (chunk: string) => parser.push(chunk));
    sock.write(`${banner}\r\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const peer: ScriptedAmiPeer = {
    port,
    actions,
    connectionCount: () => connections,
    sendEvent(fields) {
      for (const sock of loggedIn) sock.write(serializeAction(fields));
    },
    writeRaw(text) {
      for (const sock of loggedIn) sock.write(text);
    },
    silence(action, on = true) {
      if (on) silent.add(action.toLowerCase());
      else silent.delete(action.toLowerCase());
    },
    dropAll() {
      for (const sock of sockets) sock.destroy();
    },
    refuseNext(n) {
      refuse = n;
    },
    async close() {
      peer.dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return peer;
}
