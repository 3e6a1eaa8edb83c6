import {
  buildTelephonyIntegrationModule,
  isRetailCrmError,
  type RetailCrmClient,
  type RetailCrmErrorCode,
  type RetailCrmUser,
} from '@callbridge/retailcrm-client';
import type { z } from 'zod';
import type { Authenticator } from '../auth.js';
import type { RetailCrmClientFactory } from '../egress/client-factory.js';
import { HttpError, notFound } from '../errors.js';
import { looksMasked, maskSecret, type SecretBox } from '../secret-box.js';
import type { Enterprise, Storage } from '../storage/types.js';
import { callbackUrls, generateCallbackSecret } from './callback-secret.js';
import {
  apiKeySchema,
  type patchConfigBodySchema,
  type putConfigBodySchema,
  type StoredRetailCrmConfig,
  storedConfigSchema,
} from './config-schema.js';
import { applyExtensions } from './extensions.js';
import type { HostPolicy } from './host-policy.js';
import { LOGO_SVG } from './logo.js';

export const INTEGRATION = 'retailcrm';

/** Config as returned by the API: the key is masked, never the full value. */
export interface PublicRetailCrmConfig {
  domain: string | null;
  api_key: string | null;
  has_api_key: boolean;
  enabled: boolean;
  events: StoredRetailCrmConfig['events'];
  default_country: string;
  recording_wait_seconds: number;
  send_internal_calls: boolean;
  missed_call_task: boolean;
  time_zone: string | null;
  user_extensions: Record<string, string | null>;
  last_sync: string | null;
  registered: boolean;
  registered_at: string | null;
}

export interface ManagerView {
  id: number;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  active: boolean;
  extension: string | null;
  retailcrm_extension: string | null;
}

export interface RetailCrmServiceOptions {
  storage: Storage;
  secrets: SecretBox;
  auth: Authenticator;
  clientFactory: RetailCrmClientFactory;
  publicBaseUrl: string;
  moduleCode: string;
  now?: () => Date;
  /** Random bytes for callback secrets (tests inject a deterministic source). */
  random?: (n: number) => Buffer;
  /** Which RetailCRM origins may be saved and called (default: any; the app passes the configured policy). */
  hostPolicy?: HostPolicy;
}

const UNREACHABLE_MESSAGE = 'RetailCRM could not be reached at this domain (network error or not a RetailCRM API)';
const UNREACHABLE_CODES = new Set<RetailCrmErrorCode>(['network', 'timeout', 'invalid_response']);

/** The RetailCRM integration use cases behind the admin API; knows nothing of HTTP frameworks. */
export class RetailCrmService {
  private readonly now: () => Date;
  constructor(private readonly o: RetailCrmServiceOptions) {
    this.now = o.now ?? (() => new Date());
  }

  async enterprise(number: string): Promise<Enterprise> {
    const e = await this.o.storage.getEnterprise(number);
    if (!e) throw notFound(`enterprise ${number}`);
    return e;
  }

  stored(e: Enterprise): StoredRetailCrmConfig {
    return storedConfigSchema.parse(e.integrationsConfig[INTEGRATION] ?? {});
  }

  decryptKey(cfg: StoredRetailCrmConfig): string | undefined {
    if (!cfg.api_key) return undefined;
    return this.o.secrets.isEncrypted(cfg.api_key) ? this.o.secrets.decrypt(cfg.api_key) : cfg.api_key;
  }

  toPublic(cfg: StoredRetailCrmConfig): PublicRetailCrmConfig {
    const key = cfg.api_key ? this.decryptKey(cfg) : undefined;
    return {
      domain: cfg.domain ?? null,
      api_key: maskSecret(key),
      has_api_key: Boolean(key),
      enabled: cfg.enabled,
      events: cfg.events,
      default_country: cfg.default_country,
      recording_wait_seconds: cfg.recording_wait_seconds,
      send_internal_calls: cfg.send_internal_calls,
      missed_call_task: cfg.missed_call_task,
      time_zone: cfg.time_zone,
      user_extensions: cfg.user_extensions,
      last_sync: cfg.last_sync,
      registered: cfg.registered,
      registered_at: cfg.registered_at,
    };
  }

  async getConfig(number: string) {
    const e = await this.enterprise(number);
    return { enterprise: { number: e.number, name: e.name, active: e.active }, config: this.toPublic(this.stored(e)) };
  }

  /** Resolves the api_key of a save: new plaintext -> encrypted; omitted/empty/masked -> keep the stored one. */
  private nextKey(incoming: string | undefined, current: StoredRetailCrmConfig): string | undefined {
    if (incoming === undefined || incoming === '' || looksMasked(incoming)) return current.api_key;
    const parsed = apiKeySchema.safeParse(incoming);
    if (!parsed.success)
      throw new HttpError(422, 'validation_failed', parsed.error.issues[0]?.message ?? 'bad api_key');
    return this.o.secrets.encrypt(parsed.data);
  }

  /** Saves `domain` and whatever else the body carries; a field left out keeps its stored value. */
  async putConfig(number: string, body: z.infer<typeof putConfigBodySchema>) {
    return this.saveConfig(number, body, true);
  }

  /** Same merge as PUT, `domain` optional too. */
  async patchConfig(number: string, body: z.infer<typeof patchConfigBodySchema>) {
    return this.saveConfig(number, body, false);
  }

  private async saveConfig(number: string, body: z.infer<typeof patchConfigBodySchema>, keyRequired: boolean) {
    await this.enterprise(number);
    if (body.domain !== undefined) this.o.hostPolicy?.check(body.domain);
    const next = await this.o.storage.updateIntegrationConfig(number, INTEGRATION, (raw) => {
      const current = storedConfigSchema.parse(raw ?? {});
      const apiKey = this.nextKey(body.api_key, current);
      if (keyRequired && !apiKey) throw new HttpError(422, 'validation_failed', 'api_key is required');
      const { api_key: _key, events, ...rest } = body;
      // Spread the current config first: user_extensions, last_sync, registration and every field the body
      // leaves out survive a save.
      // The first PUT of an enterprise enables the integration unless it says otherwise (as PUT always did).
      const enabled = rest.enabled ?? (keyRequired && !current.domain ? true : current.enabled);
      return {
        ...current,
        ...stripUndefined(rest),
        enabled,
        api_key: apiKey,
        events: { ...current.events, ...stripUndefined(events ?? {}) },
      };
    });
    return this.toPublic(storedConfigSchema.parse(next));
  }

  /** Removes the integration: deactivates the module in RetailCRM (best effort) and revokes account links. */
  async deleteConfig(number: string) {
    const e = await this.enterprise(number);
    const cfg = this.stored(e);
    let retailcrm: { ok: boolean; error?: string } | undefined;
    if (cfg.registered) retailcrm = await this.deactivateModule(e, cfg);
    await this.o.storage.updateIntegrationConfig(number, INTEGRATION, () => undefined);
    await this.o.storage.bumpAdminTokenVersion(number);
    return { retailcrm };
  }

  client(cfg: StoredRetailCrmConfig, override?: { domain?: string; apiKey?: string }): RetailCrmClient {
    const url = override?.domain ?? cfg.domain;
    const apiKey = override?.apiKey ?? this.decryptKey(cfg);
    if (!url || !apiKey) throw new HttpError(409, 'not_configured', 'RetailCRM domain and api_key must be saved first');
    // Stored domains are checked too: they may predate the policy.
    this.o.hostPolicy?.check(url);
    return this.o.clientFactory({ url, apiKey });
  }

  /** Runs a RetailCRM call, writes an integration log row, maps failures to a 502 with the client's code. */
  private async logged<T>(e: Enterprise, eventType: string, request: unknown, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await fn();
      await this.o.storage.insertIntegrationLog({
        enterpriseNumber: e.number,
        integrationType: INTEGRATION,
        eventType,
        requestData: request,
        responseData: result,
        status: 'success',
        durationMs: performance.now() - started,
      });
      return result;
    } catch (err) {
      // Connection refused, reset, timeout, not HTTP, not the RetailCRM API: one message, so the answer cannot
      // tell which kind of service listens at an address.
      const unreachable = isRetailCrmError(err) && UNREACHABLE_CODES.has(err.code);
      const message = unreachable ? UNREACHABLE_MESSAGE : err instanceof Error ? err.message : String(err);
      await this.o.storage.insertIntegrationLog({
        enterpriseNumber: e.number,
        integrationType: INTEGRATION,
        eventType,
        requestData: request,
        status: 'error',
        errorMessage: message,
        durationMs: performance.now() - started,
      });
      if (unreachable) throw new HttpError(502, 'retailcrm_unreachable', UNREACHABLE_MESSAGE);
      // HTTP answers keep their codes: `retailcrm_` + the client's code (`retailcrm_auth`, `retailcrm_rate_limited`).
      if (isRetailCrmError(err)) throw new HttpError(502, `retailcrm_${err.code}`, `RetailCRM: ${message}`);
      throw err;
    }
  }

  async testConnection(number: string, override?: { domain?: string; api_key?: string }) {
    const e = await this.enterprise(number);
    const cfg = this.stored(e);
    const apiKey = override?.api_key && !looksMasked(override.api_key) ? override.api_key : undefined;
    const client = this.client(cfg, { domain: override?.domain, apiKey });
    const res = await this.logged(e, 'test_connection', { domain: client.url }, () => client.credentials());
    return { domain: client.url, credentials: res.credentials ?? [] };
  }

  private accountUrl(number: string, token: string) {
    const u = new URL(`${this.o.publicBaseUrl}/retailcrm-admin/`);
    u.searchParams.set('enterprise_number', number);
    u.searchParams.set('token', token);
    return u.toString();
  }

  private async buildModule(
    e: Enterprise,
    cfg: StoredRetailCrmConfig,
    active: boolean,
    token: string,
    callbackSecret: string,
  ) {
    try {
      return buildTelephonyIntegrationModule({
        code: this.o.moduleCode,
        name: 'Callbridge',
        baseUrl: this.o.publicBaseUrl,
        logoSvg: LOGO_SVG,
        clientId: e.number,
        accountUrl: this.accountUrl(e.number, token),
        ...callbackUrls(this.o.publicBaseUrl, callbackSecret),
        additionalCodes: cfg.user_extensions,
        inboundEvents: cfg.events.incoming,
        outboundEvents: cfg.events.outgoing,
        hangupEvents: cfg.events.hangup,
        active,
      });
    } catch (err) {
      throw new HttpError(422, 'invalid_module', err instanceof Error ? err.message : String(err));
    }
  }

  private newCallbackSecret(): string {
    return generateCallbackSecret(this.o.random);
  }

  /** The module as written to the integration log: no account token, no callback secret. */
  private redactedModule(e: Enterprise, module: Awaited<ReturnType<RetailCrmService['buildModule']>>) {
    const telephony = module.integrations?.telephony;
    return {
      ...module,
      accountUrl: this.accountUrl(e.number, '***'),
      ...(telephony
        ? {
            integrations: {
              ...module.integrations,
              telephony: { ...telephony, ...callbackUrls(this.o.publicBaseUrl, '***') },
            },
          }
        : {}),
    };
  }

  /**
   * Registers (or re-registers) the telephony module. The account link gets a fresh JWT; the token
   * version is bumped only after RetailCRM accepted the module, which revokes every earlier link.
   * The callback secret is rotated the same way: the new one is stored only once RetailCRM has the new URLs.
   */
  async register(number: string) {
    const e = await this.enterprise(number);
    const cfg = this.stored(e);
    const client = this.client(cfg);
    const ver = e.adminTokenVersion + 1;
    const token = await this.o.auth.issueAccountToken(e.number, ver);
    const callbackSecret = this.newCallbackSecret();
    const module = await this.buildModule(e, cfg, true, token, callbackSecret);
    await this.logged(e, 'register_module', this.redactedModule(e, module), () =>
      client.integrationModules.edit(module),
    );
    const newVer = await this.o.storage.bumpAdminTokenVersion(number);
    const at = this.now().toISOString();
    await this.o.storage.updateIntegrationConfig(number, INTEGRATION, (raw) => ({
      ...storedConfigSchema.parse(raw ?? {}),
      registered: true,
      registered_at: at,
      last_sync: at,
      callback_secret: this.o.secrets.encrypt(callbackSecret),
    }));
    // A concurrent registration won the race: its link is the valid one, re-issue ours to match.
    const finalToken = newVer === ver ? token : await this.o.auth.issueAccountToken(e.number, newVer);
    return { code: this.o.moduleCode, account_url: this.accountUrl(e.number, finalToken) };
  }

  private async deactivateModule(e: Enterprise, cfg: StoredRetailCrmConfig): Promise<{ ok: boolean; error?: string }> {
    try {
      const client = this.client(cfg);
      // A fresh secret that is never stored: the deactivated module's callbacks can no longer pass.
      const module = await this.buildModule(e, cfg, false, 'revoked', this.newCallbackSecret());
      await this.logged(e, 'unregister_module', { code: module.code, active: false }, () =>
        client.integrationModules.edit(module),
      );
      return { ok: true };
    } catch (err) {
      return { ok: false, error: err instanceof HttpError ? err.code : 'internal_error' };
    }
  }

  /** Deactivates the module and revokes every account link, even when RetailCRM is unreachable. */
  async unregister(number: string) {
    const e = await this.enterprise(number);
    const cfg = this.stored(e);
    const retailcrm = await this.deactivateModule(e, cfg);
    await this.o.storage.bumpAdminTokenVersion(number);
    await this.o.storage.updateIntegrationConfig(number, INTEGRATION, (raw) => ({
      ...storedConfigSchema.parse(raw ?? {}),
      registered: false,
      registered_at: null,
      callback_secret: undefined,
    }));
    return { retailcrm };
  }

  async internalPhones(number: string) {
    const e = await this.enterprise(number);
    const cfg = this.stored(e);
    const phones = await this.o.storage.listInternalPhones(number);
    const managerByExt = new Map(Object.entries(cfg.user_extensions).flatMap(([u, x]) => (x ? [[x, u] as const] : [])));
    return phones.map((p) => ({
      phone_number: p.phoneNumber,
      owner_user_id: p.userId,
      owner_name: p.ownerName,
      retailcrm_user_id: managerByExt.get(p.phoneNumber) ?? null,
    }));
  }

  private async retailCrmCodes(client: RetailCrmClient): Promise<Record<string, string>> {
    try {
      const res = await client.integrationModules.get(this.o.moduleCode);
      const codes = res.integrationModule?.integrations?.telephony?.additionalCodes ?? [];
      return Object.fromEntries(codes.map((c) => [String(c.userId), String(c.code)]));
    } catch (err) {
      // Not registered yet (404): nothing in RetailCRM to compare with.
      if (isRetailCrmError(err) && err.status === 404) return {};
      throw err;
    }
  }

  /**
   * Managers from RetailCRM with their extensions. The local map wins; when it is still empty,
   * RetailCRM's additionalCodes are imported once (first run after a migration).
   */
  async managers(number: string): Promise<{ managers: ManagerView[]; imported: boolean }> {
    const e = await this.enterprise(number);
    let cfg = this.stored(e);
    const client = this.client(cfg);
    const { users, remote } = await this.logged(e, 'list_managers', { domain: client.url }, async () => {
      const users: RetailCrmUser[] = [];
      for await (const u of client.users.iterate({ limit: 100 })) users.push(u);
      return { users, remote: await this.retailCrmCodes(client) };
    });
    let imported = false;
    if (Object.keys(cfg.user_extensions).length === 0 && Object.keys(remote).length > 0) {
      const next = await this.o.storage.updateIntegrationConfig(number, INTEGRATION, (raw) => {
        const current = storedConfigSchema.parse(raw ?? {});
        if (Object.keys(current.user_extensions).length > 0) return current;
        imported = true;
        return { ...current, user_extensions: { ...remote } };
      });
      cfg = storedConfigSchema.parse(next);
    }
    const managers = users
      .filter((u) => u.isManager !== false || u.isAdmin)
      .map((u) => ({
        id: u.id,
        first_name: u.firstName ?? null,
        last_name: u.lastName ?? null,
        email: u.email ?? null,
        active: u.active !== false,
        extension: cfg.user_extensions[String(u.id)] ?? null,
        retailcrm_extension: remote[String(u.id)] ?? null,
      }));
    return { managers, imported };
  }

  /**
   * Saves extension assignments locally (the source of truth) and then pushes them to RetailCRM's
   * additionalCodes when the module is registered. A failed push keeps the local save and says so.
   */
  async saveExtensions(number: string, patch: Record<string, string | null>) {
    await this.enterprise(number);
    const known = new Set((await this.o.storage.listInternalPhones(number)).map((p) => p.phoneNumber));
    for (const ext of Object.values(patch)) {
      if (ext !== null && !known.has(ext)) {
        throw new HttpError(
          422,
          'unknown_extension',
          `extension ${ext} is not an internal phone of enterprise ${number}`,
        );
      }
    }
    let displaced: string[] = [];
    const next = await this.o.storage.updateIntegrationConfig(number, INTEGRATION, (raw) => {
      const current = storedConfigSchema.parse(raw ?? {});
      const applied = applyExtensions(current.user_extensions, patch);
      displaced = applied.displaced;
      return { ...current, user_extensions: applied.next };
    });
    let cfg = storedConfigSchema.parse(next);
    let sync: { ok: boolean; error?: string; skipped?: string } = { ok: false, skipped: 'not_registered' };
    if (cfg.registered) {
      sync = await this.pushCodes(await this.enterprise(number), cfg);
      if (sync.ok) {
        const at = this.now().toISOString();
        cfg = storedConfigSchema.parse(
          await this.o.storage.updateIntegrationConfig(number, INTEGRATION, (raw) => ({
            ...storedConfigSchema.parse(raw ?? {}),
            last_sync: at,
          })),
        );
      }
    }
    return { user_extensions: cfg.user_extensions, displaced, sync };
  }

  /**
   * Pushes the local map to RetailCRM (re-sends the module with the current, not rotated, token version
   * and callback secret). A module registered before callback secrets existed gets its first one here.
   */
  async pushCodes(e: Enterprise, cfg: StoredRetailCrmConfig): Promise<{ ok: boolean; error?: string }> {
    try {
      const client = this.client(cfg);
      const token = await this.o.auth.issueAccountToken(e.number, e.adminTokenVersion);
      const stored = cfg.callback_secret ? this.o.secrets.decrypt(cfg.callback_secret) : undefined;
      const callbackSecret = stored ?? this.newCallbackSecret();
      const module = await this.buildModule(e, cfg, true, token, callbackSecret);
      const codes = module.integrations?.telephony?.additionalCodes ?? [];
      await this.logged(e, 'sync_extensions', { additionalCodes: codes }, () => client.integrationModules.edit(module));
      if (!stored) {
        await this.o.storage.updateIntegrationConfig(e.number, INTEGRATION, (raw) => {
          const current = storedConfigSchema.parse(raw ?? {});
          // A registration that ran meanwhile already stored (and sent) its own secret.
          if (current.callback_secret) return current;
          return { ...current, callback_secret: this.o.secrets.encrypt(callbackSecret) };
        });
      }
      return { ok: true };
    } catch (err) {
      return { ok: false, error: err instanceof HttpError ? err.code : 'internal_error' };
    }
  }

  async syncExtensions(number: string) {
    const e = await this.enterprise(number);
    const cfg = this.stored(e);
    if (!cfg.registered) throw new HttpError(409, 'not_registered', 'register the module first');
    const sync = await this.pushCodes(e, cfg);
    if (!sync.ok) throw new HttpError(502, sync.error ?? 'sync_failed', 'additionalCodes sync failed');
    return { user_extensions: cfg.user_extensions };
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
