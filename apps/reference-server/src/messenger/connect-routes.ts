import { createHash, randomBytes } from 'node:crypto';
import { AdapterError, type AvitoAdapter, type PublicKeyAuth } from '@callbridge/messenger-contract';
import { type Request, type Response, Router } from 'express';
import type { Logger } from 'pino';
import type { SqlQueryable } from '../storage/sql-driver.js';
import { connectAvito } from './avito-connect.js';
import { avitoStartPage, CONNECT_CSS, CONNECT_WA_JS, messagePage, whatsAppPage } from './connect-pages.js';
import { checkPublicAccess } from './public-access.js';
import type { QrCache } from './queues.js';
import type { MessengerStore, SqlProviderTokenStore, SqlTenantKeyStore } from './store.js';

/** The scope the seed's connect page always asks for. */
export const AVITO_SCOPE = 'messenger:read,messenger:write,user:read';
const STATE_TTL_MS = 10 * 60_000;
const STATE_COOKIE = 'cb_avito_state';
const CALLBACK_PATH = '/connect/avito/callback';

const digest = (state: string) => createHash('sha256').update(state).digest('hex');

/** OAuth `state` values: random, stored as digests, single use, expire after 10 minutes. */
export class OAuthStateStore {
  constructor(private readonly db: SqlQueryable) {}

  async issue(tenant: number, provider: string, now = Date.now()): Promise<string> {
    const state = randomBytes(32).toString('base64url');
    await this.db.query('DELETE FROM messenger_oauth_states WHERE expires_at < $1', [new Date(now)]);
    await this.db.query(
      'INSERT INTO messenger_oauth_states (digest, tenant, provider, expires_at) VALUES ($1, $2, $3, $4)',
      [digest(state), tenant, provider, new Date(now + STATE_TTL_MS)],
    );
    return state;
  }

  /** The tenant the state was issued for, consuming it; undefined when unknown, used or expired. */
  async consume(state: string, provider: string, now = Date.now()): Promise<number | undefined> {
    const rows = await this.db.query<{ tenant: number; expires_at: Date | string }>(
      'DELETE FROM messenger_oauth_states WHERE digest = $1 AND provider = $2 RETURNING tenant, expires_at',
      [digest(state), provider],
    );
    const row = rows[0];
    if (!row || new Date(row.expires_at).getTime() < now) return undefined;
    return Number(row.tenant);
  }
}

export interface ConnectRoutesDeps {
  publicAuth: PublicKeyAuth;
  tenantKeys: SqlTenantKeyStore;
  qrCache: QrCache;
  providerTokens: SqlProviderTokenStore;
  store: MessengerStore;
  states: OAuthStateStore;
  adapters: { avito: AvitoAdapter };
  /** AVITO_CLIENT_ID and the authorization page; undefined = Avito not configured. */
  avito: { clientId: string; authUrl: string } | undefined;
  appBaseUrl: string;
  logger: Logger;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : Array.isArray(v) ? str(v[0]) : undefined);

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/**
 * The pages behind the links handed to clients: `/connect/wa` (the tenant's WhatsApp QR and state, from the QR
 * cache and `/pub/wa/*`) and `/connect/avito` (OAuth authorization-code flow: start -> Avito -> callback with the
 * `state` checked against both the store and the browser's cookie).
 */
export function createConnectRouter(deps: ConnectRoutesDeps): Router {
  const r = Router();
  /** An HTML page for people; an error page also carries its code in `X-Error-Code` for machines. */
  const page = (res: Response, status: number, html: string, code?: string) => {
    if (code) res.setHeader('X-Error-Code', code);
    res.status(status).setHeader('Cache-Control', 'no-store').type('html').send(html);
  };
  const tenantOf = async (req: Request, res: Response, title: string): Promise<number | undefined> => {
    const access = await checkPublicAccess(deps, str(req.query.k), req.query.tenant);
    if (access.ok) return access.tenant;
    if (access.reason === 'invalid_key') {
      page(
        res,
        401,
        messagePage(title, 'Ссылка недействительна: запросите новую у администратора.', 'invalid_key'),
        'invalid_key',
      );
    } else {
      page(res, 422, messagePage(title, 'В ссылке нет номера арендатора.', 'invalid_tenant'), 'invalid_tenant');
    }
    return undefined;
  };

  r.get('/connect/assets/connect.css', (_req, res) => {
    res.type('text/css').setHeader('Cache-Control', 'public, max-age=300').send(CONNECT_CSS);
  });
  r.get('/connect/assets/connect-wa.js', (_req, res) => {
    res.type('text/javascript').setHeader('Cache-Control', 'public, max-age=300').send(CONNECT_WA_JS);
  });

  r.get('/connect/wa', async (req, res) => {
    const tenant = await tenantOf(req, res, 'Подключение WhatsApp');
    if (tenant === undefined) return;
    const cached = await deps.qrCache.get(tenant);
    page(res, 200, whatsAppPage(tenant, str(req.query.k) as string, cached?.qrId));
  });

  r.get('/connect/avito', async (req, res) => {
    const title = 'Подключение Avito';
    const tenant = await tenantOf(req, res, title);
    if (tenant === undefined) return;
    if (deps.avito === undefined) {
      page(
        res,
        503,
        messagePage(title, 'Avito не настроен на сервере (AVITO_CLIENT_ID).', 'avito_not_configured'),
        'avito_not_configured',
      );
      return;
    }
    const state = await deps.states.issue(tenant, 'avito');
    const url = new URL(deps.avito.authUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', deps.avito.clientId);
    url.searchParams.set('scope', AVITO_SCOPE);
    url.searchParams.set('state', state);
    // Binds the flow to this browser: a callback carrying a state issued to someone else is refused.
    res.cookie(STATE_COOKIE, state, {
      httpOnly: true,
      sameSite: 'lax',
      secure: req.secure,
      path: '/connect/avito',
      maxAge: STATE_TTL_MS,
    });
    page(res, 200, avitoStartPage(url.toString()));
  });

  r.get(CALLBACK_PATH, async (req, res) => {
    const title = 'Подключение Avito';
    const state = str(req.query.state);
    const fromCookie = cookie(req, STATE_COOKIE);
    res.clearCookie(STATE_COOKIE, { path: '/connect/avito' });
    // The state is consumed whatever happens next: it is single use.
    const tenant = state ? await deps.states.consume(state, 'avito') : undefined;
    if (tenant === undefined || state !== fromCookie) {
      page(
        res,
        400,
        messagePage(title, 'Сессия подключения устарела или чужая: начните заново.', 'invalid_state'),
        'invalid_state',
      );
      return;
    }
    const denied = str(req.query.error);
    const code = str(req.query.code);
    if (denied !== undefined || !code) {
      page(
        res,
        400,
        messagePage(title, 'Доступ не был предоставлен на Avito.', denied ?? 'missing_code'),
        denied === undefined ? 'missing_code' : 'avito_denied',
      );
      return;
    }
    try {
      const { accountId } = await connectAvito(deps, tenant, code);
      deps.logger.info({ tenant, account_id: accountId }, 'avito connected');
      page(res, 200, messagePage(title, `Avito подключён (аккаунт ${accountId}). Автоответ включён.`, 'connected'));
    } catch (error) {
      if (!(error instanceof AdapterError)) throw error;
      deps.logger.warn({ tenant, code: error.code }, 'avito connect failed');
      page(
        res,
        502,
        messagePage(title, 'Avito не подтвердил подключение, попробуйте ещё раз.', error.code),
        error.code,
      );
    }
  });

  return r;
}
