import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';

/**
 * A hostile-input walker over the server's own `/openapi.json`: every operation, every parameter location
 * (path, query, header, body), with a deterministic sample of cases per operation (seeded PRNG).
 */

type Json = Record<string, unknown>;

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  schema?: Json;
}

export interface Operation {
  method: string;
  /** OpenAPI path template, e.g. `/api/config/{enterpriseNumber}`. */
  path: string;
  parameters: OpenApiParameter[];
  /** Request body content types the operation declares. */
  bodyTypes: string[];
  /** Property names of the (first) body schema, for wrong-type cases. */
  bodyProperties: string[];
  /** Security scheme names; empty = public. */
  security: string[];
}

/** Flattens `/openapi.json` into operations. */
export function operationsOf(doc: { paths: Record<string, Record<string, Json>> }): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const content = ((op.requestBody as Json | undefined)?.content ?? {}) as Record<string, { schema?: Json }>;
      const firstSchema = Object.values(content)[0]?.schema;
      const security = ((op.security as Array<Record<string, unknown>> | undefined) ?? []).flatMap((s) =>
        Object.keys(s),
      );
      out.push({
        method: method.toUpperCase(),
        path,
        parameters: (op.parameters as OpenApiParameter[] | undefined) ?? [],
        bodyTypes: Object.keys(content),
        bodyProperties: Object.keys((firstSchema?.properties as Json | undefined) ?? {}),
        security,
      });
    }
  }
  return out;
}

/** mulberry32: tiny, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hostile strings: NUL, lone surrogates, huge numbers, traversal, prototype keys, odd dates, long strings. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83d',
  '-1',
  '0',
  '3000000000',
  '9223372036854775808',
  '1e309',
  '-1e309',
  'NaN',
  '1.5',
  '99999-01-01',
  '0000-00-00',
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '__proto__',
  'constructor',
  'prototype',
  'true',
  'null',
  '[]',
  '{}',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '\u202eevil',
  '🙂'.repeat(50),
  'x'.repeat(5000),
];

/** Raw path segments that are not valid percent-encoding (sent as-is, never re-encoded). */
export const BAD_PERCENT: readonly string[] = ['%', '%zz', '%E0%A4%A', '%00', '%C0%AE%C0%AE', '..%2f..%2f'];

/** Hostile JSON values for a body property. */
export const HOSTILE_JSON_VALUES: readonly unknown[] = [
  null,
  true,
  1e308,
  -1,
  3_000_000_000,
  Number.MAX_SAFE_INTEGER + 2,
  [],
  {},
  [[[[[]]]]],
  { __proto__: { polluted: 1 } },
  'x'.repeat(200_000),
];

/** A raw HTTP request: bytes and headers exactly as given (the path is not normalised or re-encoded). */
export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** What the case exercises (printed on failure). */
  label: string;
}

export interface FuzzResponse {
  status: number;
  body: string;
  json: Record<string, unknown> | undefined;
  /** `X-Error-Code` of an HTML error page meant for people (the connect pages). */
  errorCode?: string | undefined;
  /** True when the client gave up waiting (long-poll routes may hold). */
  timedOut: boolean;
}

/** Sends `req` with node:http (keeps bad percent-encoding and odd bytes intact). */
export function send(baseUrl: string, req: FuzzRequest, timeoutMs = 10_000): Promise<FuzzResponse> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let settled = false;
    const r = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        method: req.method,
        path: req.path,
        headers: { connection: 'close', ...req.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => undefined);
        res.on('end', () => {
          settled = true;
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          const errorCode = res.headers['x-error-code'];
          resolve({
            status: res.statusCode ?? 0,
            body: text,
            json,
            errorCode: typeof errorCode === 'string' ? errorCode : undefined,
            timedOut: false,
          });
        });
      },
    );
    r.setTimeout(timeoutMs, () => {
      if (settled) return;
      settled = true;
      r.destroy();
      resolve({ status: 0, body: '', json: undefined, timedOut: true });
    });
    // A server may answer and close before reading a large or truncated body: only fail if nothing came back.
    r.on('error', (err) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
    r.end(req.body);
  });
}

export interface FuzzCredentials {
  /** Headers and query parameters that satisfy each security scheme of the document. */
  headers: Record<string, string>;
  query: Record<string, string>;
}

/** Plausible values for path and query parameters, so a case reaches past the router to the handler. */
export type PlausibleValues = Record<string, string>;

const pick = <T>(rand: () => number, list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;

function fillPath(path: string, values: PlausibleValues, override?: [string, string]): string {
  return path.replace(/\{(\w+)\}/g, (_m, name: string) =>
    override && override[0] === name ? override[1] : encodeURIComponent(values[name] ?? '1'),
  );
}

function queryString(params: Record<string, string>): string {
  const q = Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return q ? `?${q}` : '';
}

/** `encodeURIComponent` that survives lone surrogates (it throws on them): each becomes `%ED%A0%80` (CESU bytes). */
function encodeLoosely(v: string): string {
  const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  return encodeURIComponent(v.replace(lone, '\u0001')).replaceAll('%01', '%ED%A0%80');
}

function deepJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

const BOUNDARY = 'fuzzboundary';

/**
 * `count` hostile requests for one operation. With `authenticated`, the operation's credentials are attached
 * (the case then tests the handler); without, the case tests that the credential check is never skipped.
 */
export function casesFor(
  op: Operation,
  count: number,
  rand: () => number,
  options: { credentials: FuzzCredentials; values: PlausibleValues; authenticated: boolean },
): FuzzRequest[] {
  const { credentials, values, authenticated } = options;
  const pathParams = op.parameters.filter((p) => p.in === 'path').map((p) => p.name);
  const queryParams = op.parameters.filter((p) => p.in === 'query').map((p) => p.name);
  const headerParams = op.parameters.filter((p) => p.in === 'header').map((p) => p.name);
  const baseQuery: Record<string, string> = {};
  for (const name of queryParams) baseQuery[name] = values[name] ?? '1';
  const authHeaders = authenticated ? credentials.headers : {};
  if (authenticated) Object.assign(baseQuery, credentials.query);

  const strategies: Array<() => FuzzRequest> = [];
  if (pathParams.length > 0) {
    strategies.push(() => {
      const name = pick(rand, pathParams);
      const raw = rand() < 0.4 ? pick(rand, BAD_PERCENT) : encodeLoosely(pick(rand, HOSTILE_STRINGS));
      return {
        method: op.method,
        path: fillPath(op.path, values, [name, raw]) + queryString(baseQuery),
        headers: authHeaders,
        label: `path ${name}=${raw.slice(0, 40)}`,
      };
    });
  }
  strategies.push(() => {
    // Every declared query parameter hostile at once, plus prototype keys and a bad escape.
    const parts = [...queryParams, ...Object.keys(authenticated ? credentials.query : {})].map((name) => {
      const hostile = credentials.query[name] !== undefined && authenticated ? credentials.query[name] : undefined;
      return `${encodeURIComponent(name)}=${hostile !== undefined ? encodeURIComponent(hostile) : encodeLoosely(pick(rand, HOSTILE_STRINGS))}`;
    });
    parts.push('__proto__[polluted]=1', 'constructor[prototype][polluted]=1', `x=${pick(rand, BAD_PERCENT)}`);
    return {
      method: op.method,
      path: `${fillPath(op.path, values)}?${parts.join('&')}`,
      headers: authHeaders,
      label: 'query hostile',
    };
  });
  strategies.push(() => {
    // Header parameters and security headers with hostile (but transmittable) values.
    const headers: Record<string, string> = { ...authHeaders };
    const printable = HOSTILE_STRINGS.filter((s) => /^[\x20-\x7e]*$/.test(s) && s.length < 1000);
    for (const name of headerParams) headers[name.toLowerCase()] = pick(rand, printable);
    if (!authenticated) headers.authorization = `Bearer ${pick(rand, printable)}`;
    return {
      method: op.method,
      path: fillPath(op.path, values) + queryString(baseQuery),
      headers,
      label: 'headers hostile',
    };
  });
  if (op.method !== 'GET' && op.method !== 'DELETE') {
    const path = fillPath(op.path, values) + queryString(baseQuery);
    const json = { 'content-type': 'application/json', ...authHeaders };
    const bodies: Array<() => FuzzRequest> = [
      () => ({ method: op.method, path, headers: json, body: Buffer.from('{"a": 1,'), label: 'malformed JSON' }),
      () => ({ method: op.method, path, headers: json, body: Buffer.from(deepJson(3000)), label: 'deep JSON' }),
      () => ({
        method: op.method,
        path,
        headers: json,
        body: Buffer.from('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}'),
        label: 'prototype keys',
      }),
      () => ({
        method: op.method,
        path,
        headers: json,
        body: Buffer.from('"\\ud800\\u0000"'),
        label: 'lone surrogate',
      }),
      () => {
        const body: Record<string, unknown> = {};
        for (const p of op.bodyProperties) body[p] = pick(rand, HOSTILE_JSON_VALUES);
        if (op.bodyProperties.length === 0) body.x = pick(rand, HOSTILE_JSON_VALUES);
        return {
          method: op.method,
          path,
          headers: json,
          body: Buffer.from(JSON.stringify(body)),
          label: 'wrong types',
        };
      },
      () => {
        const body: Record<string, string> = {};
        for (const p of op.bodyProperties.length ? op.bodyProperties : ['x']) body[p] = pick(rand, HOSTILE_STRINGS);
        return {
          method: op.method,
          path,
          headers: json,
          body: Buffer.from(JSON.stringify(body)),
          label: 'hostile strings',
        };
      },
      () => ({
        method: op.method,
        path,
        headers: { ...json, 'content-encoding': pick(rand, ['gzip', 'br', 'deflate']) },
        body: Buffer.from('{"a":1}'),
        label: 'mislabelled encoding',
      }),
      () => ({
        method: op.method,
        path,
        headers: { ...json, 'content-encoding': 'gzip' },
        body: gzipSync(Buffer.from('{"a":1}')).subarray(0, 12),
        label: 'truncated gzip',
      }),
      () => ({
        method: op.method,
        path,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...authHeaders },
        body: Buffer.from(`${'a'.repeat(1)}${'[a]'.repeat(40)}=1&__proto__[x]=1&b=%zz&c=%00`),
        label: 'deep form',
      }),
      () => ({
        method: op.method,
        path,
        headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, ...authHeaders },
        body: Buffer.from(
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="../../a.csv"\r\n\r\nabc`,
        ),
        label: 'truncated multipart',
      }),
      () => ({
        method: op.method,
        path,
        headers: { 'content-type': 'text/plain; charset=utf-7', ...authHeaders },
        body: Buffer.from('+ADw-script+AD4-'),
        label: 'odd charset',
      }),
      () => ({
        method: op.method,
        path,
        headers: { 'content-type': 'application/json; charset=latin1', ...authHeaders },
        body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
        label: 'invalid UTF-8',
      }),
    ];
    strategies.push(...bodies, ...bodies);
  }
  return Array.from({ length: count }, () => pick(rand, strategies)());
}

/** A 4xx body carries a machine-readable code: `{error}`, `{code}` or DRF/FastAPI `{detail}`. */
export function hasCode(json: Record<string, unknown> | undefined): boolean {
  if (!json) return false;
  if (typeof json.error === 'string' && json.error !== '') return true;
  if (typeof json.code === 'string' && json.code !== '') return true;
  if (typeof json.detail === 'string' || Array.isArray(json.detail)) return true;
  // DRF field errors: {field: ["message"]}
  return Object.values(json).some((v) => Array.isArray(v) && v.every((m) => typeof m === 'string'));
}
