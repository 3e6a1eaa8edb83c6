import { z } from 'zod';

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const bool = (fallback: boolean) =>
  z.preprocess(
    emptyToUndefined,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { error: 'must be true or false' })
      .default(fallback ? 'true' : 'false')
      .transform((v) => ['true', '1', 'yes', 'on'].includes(v)),
  );
const httpUrl = z.string().refine((v) => {
  try {
    return ['http:', 'https:'].includes(new URL(v.replaceAll('{tenant}', '1')).protocol);
  } catch {
    return false;
  }
}, 'must be an http(s) URL');

/** Environment of the messenger hub (seed names where the seed has one). */
export const messengerEnvSchema = z.object({
  OUTBOX_ENABLED: bool(false),
  OUTBOX_WHITELIST: z.preprocess(emptyToUndefined, z.string().default('')),
  OUTBOX_REQUIRE_LEAD: bool(true),
  PUBLIC_KEY: z.preprocess(emptyToUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  APP_BASE_URL: z.preprocess(emptyToUndefined, httpUrl.optional()),
  TGWORKER_BASE_URL: z.preprocess(emptyToUndefined, httpUrl.default('http://tgworker:9000')),
  WAWEB_URL_TEMPLATE: z.preprocess(
    emptyToUndefined,
    httpUrl.refine((v) => v.includes('{tenant}'), 'must contain {tenant}').default('http://waweb-{tenant}:9001'),
  ),
  WAWEB_ADMIN_TOKEN: z.preprocess(emptyToUndefined, z.string().min(8).optional()),
  WA_WEB_TOKEN: z.preprocess(emptyToUndefined, z.string().min(8).optional()),
  AVITO_CLIENT_ID: z.preprocess(emptyToUndefined, z.string().optional()),
  AVITO_CLIENT_SECRET: z.preprocess(emptyToUndefined, z.string().optional()),
  AVITO_API_URL: z.preprocess(emptyToUndefined, httpUrl.default('https://api.avito.ru')),
  AVITO_AUTH_URL: z.preprocess(emptyToUndefined, httpUrl.default('https://avito.ru/oauth')),
  OPENAI_API_KEY: z.preprocess(emptyToUndefined, z.string().min(8, 'must be at least 8 characters').optional()),
  OPENAI_MODEL: z.preprocess(emptyToUndefined, z.string().max(200).optional()),
  OPENAI_BASE_URL: z.preprocess(emptyToUndefined, httpUrl.default('https://api.openai.com/v1')),
  AUTO_REPLY_TIMEOUT_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1000).max(120_000).default(20_000)),
  MAX_UPLOAD_SIZE_BYTES: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number()
      .int()
      .min(1)
      .max(1024 * 1024 * 1024)
      .default(20 * 1024 * 1024),
  ),
  MESSENGER_DEDUP_TTL_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1000).default(86_400_000)),
});

export interface MessengerConfig {
  outboxEnabled: boolean;
  outboxWhitelist: string;
  /** The seed's lead check before delivery (`err:no_lead`); default true. */
  outboxRequireLead: boolean;
  /** PUBLIC_KEY of /pub/*; undefined = ADMIN_TOKEN accepted in compatibility mode. */
  publicKey: string | undefined;
  /** How workers reach this server (webhook URLs); defaults to PUBLIC_BASE_URL. */
  appBaseUrl: string | undefined;
  tgworkerBaseUrl: string;
  /** Per-tenant waweb container URL; `{tenant}` is replaced by the tenant id. */
  wawebUrlTemplate: string;
  /** X-Auth-Token sent to waweb (default ADMIN_TOKEN). */
  wawebAdminToken: string | undefined;
  /** X-Auth-Token accepted by /internal/tenant/{tenant}/ensure (default ADMIN_TOKEN). */
  waWebToken: string | undefined;
  avito: { clientId: string; clientSecret: string; apiUrl: string; authUrl: string } | undefined;
  /** OpenAI-compatible chat completions for auto-replies; undefined = auto-reply off. The key is never logged. */
  llm: { baseUrl: string; model: string; apiKey: string; timeoutMs: number } | undefined;
  maxUploadSizeBytes: number;
  dedupTtlMs: number;
}

/** Validates the messenger variables; returns every problem by name (values are never echoed). */
export function parseMessengerEnv(
  env: Record<string, string | undefined>,
): { ok: true; config: MessengerConfig } | { ok: false; issues: string[] } {
  const parsed = messengerEnvSchema.safeParse(env);
  if (!parsed.success) {
    return { ok: false, issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`) };
  }
  const e = parsed.data;
  const issues: string[] = [];
  if (e.PUBLIC_KEY !== undefined && e.PUBLIC_KEY === env.ADMIN_TOKEN) {
    issues.push('PUBLIC_KEY: must differ from ADMIN_TOKEN');
  }
  if ((e.OPENAI_API_KEY === undefined) !== (e.OPENAI_MODEL === undefined)) {
    issues.push('OPENAI_API_KEY / OPENAI_MODEL: set both (auto-reply on) or neither (off)');
  }
  if (e.WA_WEB_TOKEN !== undefined && e.WA_WEB_TOKEN === env.ADMIN_TOKEN) {
    issues.push('WA_WEB_TOKEN: must differ from ADMIN_TOKEN');
  }
  // In production the admin token never travels in a URL (`?k=` on /pub/*, `?token=` on /internal/*).
  if (env.NODE_ENV === 'production') {
    if (e.PUBLIC_KEY === undefined) issues.push('PUBLIC_KEY: is required when NODE_ENV=production');
    if (e.WA_WEB_TOKEN === undefined) issues.push('WA_WEB_TOKEN: is required when NODE_ENV=production');
  }
  if ((e.AVITO_CLIENT_ID === undefined) !== (e.AVITO_CLIENT_SECRET === undefined)) {
    issues.push('AVITO_CLIENT_ID / AVITO_CLIENT_SECRET: set both or neither');
  }
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    config: {
      outboxEnabled: e.OUTBOX_ENABLED,
      outboxWhitelist: e.OUTBOX_WHITELIST,
      outboxRequireLead: e.OUTBOX_REQUIRE_LEAD,
      publicKey: e.PUBLIC_KEY,
      appBaseUrl: e.APP_BASE_URL?.replace(/\/+$/, ''),
      tgworkerBaseUrl: e.TGWORKER_BASE_URL.replace(/\/+$/, ''),
      wawebUrlTemplate: e.WAWEB_URL_TEMPLATE,
      wawebAdminToken: e.WAWEB_ADMIN_TOKEN,
      waWebToken: e.WA_WEB_TOKEN,
      avito:
        e.AVITO_CLIENT_ID !== undefined && e.AVITO_CLIENT_SECRET !== undefined
          ? {
              clientId: e.AVITO_CLIENT_ID,
              clientSecret: e.AVITO_CLIENT_SECRET,
              apiUrl: e.AVITO_API_URL,
              authUrl: e.AVITO_AUTH_URL,
            }
          : undefined,
      llm:
        e.OPENAI_API_KEY !== undefined && e.OPENAI_MODEL !== undefined
          ? {
              baseUrl: e.OPENAI_BASE_URL.replace(/\/+$/, ''),
              model: e.OPENAI_MODEL,
              apiKey: e.OPENAI_API_KEY,
              timeoutMs: e.AUTO_REPLY_TIMEOUT_MS,
            }
          : undefined,
      maxUploadSizeBytes: e.MAX_UPLOAD_SIZE_BYTES,
      dedupTtlMs: e.MESSENGER_DEDUP_TTL_MS,
    },
  };
}
