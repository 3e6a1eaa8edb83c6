import { RetailCrmValidationError } from './errors.js';
import type { AdditionalCode, ExternalPhone, IntegrationModule } from './schemas/integration-module.js';

/** What {@link buildTelephonyIntegrationModule} needs to build a telephony integration module. */
export interface TelephonyIntegrationModuleInput {
  /** Module code in the account, e.g. `vochi-telephony`. */
  code: string;
  /** Marketplace integration code (defaults to `code`). */
  integrationCode?: string;
  /** Shown in the account's marketplace and settings. */
  name: string;
  /** Required by RetailCRM (`baseUrl: This value should not be blank`). Absolute http(s) URL. */
  baseUrl: string;
  /**
   * SVG only (`logo: Logo image must be svg`): an http(s) URL ending in `.svg`, a `data:image/svg+xml` URI,
   * or raw `<svg>` markup (sent as a base64 data URI).
   */
  logoSvg: string;
  /** Our identifier of the account's tenant (the enterprise number); RetailCRM echoes it to makeCallUrl. */
  clientId: string;
  /** "Go to account" link; the caller supplies it (typically with a signed token in the query). */
  accountUrl: string;
  /** RetailCRM posts click-to-call requests here. */
  makeCallUrl: string;
  /** RetailCRM posts manager status changes here (optional). */
  changeUserStatusUrl?: string;
  /** Manager extensions: a list, or the `{retailcrmUserId: extension | null}` map kept in our config. */
  additionalCodes?:
    | readonly {
        /** RetailCRM user id of the manager. */
        userId: string | number;
        /** The manager's PBX extension. */
        code: string | number;
      }[]
    | Record<string, string | null>;
  /** The PBX's external numbers and the site each belongs to. */
  externalPhones?: readonly ExternalPhone[];
  /** Let managers edit their extension in RetailCRM (default false: our DB is the source of truth). */
  allowEdit?: boolean;
  /** Which call events the PBX sends (each default true). */
  inboundEvents?: boolean;
  /** Outbound call events (default true). */
  outboundEvents?: boolean;
  /** Hangup events (default true). */
  hangupEvents?: boolean;
  /** false deactivates the module (same payload, `active: false`). */
  active: boolean;
  /** ISO country codes the module is offered in (default: all). */
  availableCountries?: string[];
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function svgLogo(logo: string, issues: string[]): string {
  const trimmed = logo.trim();
  if (/^data:image\/svg\+xml[;,]/i.test(trimmed)) return trimmed;
  if (/^(<\?xml[^>]*>\s*)?<svg[\s>]/i.test(trimmed)) {
    return `data:image/svg+xml;base64,${Buffer.from(trimmed, 'utf8').toString('base64')}`;
  }
  if (isHttpUrl(trimmed) && /\.svg$/i.test(new URL(trimmed).pathname)) return trimmed;
  issues.push('logoSvg: Logo image must be svg (an .svg URL, a data:image/svg+xml URI or <svg> markup)');
  return trimmed;
}

function normaliseCodes(input: TelephonyIntegrationModuleInput['additionalCodes'], issues: string[]): AdditionalCode[] {
  if (!input) return [];
  const pairs: [string, string][] = Array.isArray(input)
    ? (input as readonly { userId: string | number; code: string | number }[]).map((item) => [
        String(item.userId),
        String(item.code),
      ])
    : Object.entries(input as Record<string, string | null>)
        .filter((entry): entry is [string, string] => entry[1] !== null && entry[1] !== '')
        .map(([userId, code]) => [userId, String(code)]);
  const byCode = new Map<string, string>();
  for (const [userId, code] of pairs) {
    const owner = byCode.get(code);
    if (owner !== undefined && owner !== userId) {
      issues.push(`additionalCodes: extension ${code} is assigned to users ${owner} and ${userId}`);
    }
    byCode.set(code, userId);
  }
  // RetailCRM documents both fields as strings (the seed's stored format).
  return pairs.map(([userId, code]) => ({ userId, code }));
}

/**
 * Builds the `integrationModule` payload for telephony registration so that the seed's failures cannot
 * happen: SVG logo, non-blank baseUrl, no `actions`, telephony settings under `integrations.telephony`.
 * Throws `RetailCrmValidationError` listing every problem.
 */
export function buildTelephonyIntegrationModule(input: TelephonyIntegrationModuleInput): IntegrationModule {
  const issues: string[] = [];
  if (!input.code?.trim()) issues.push('code: This value should not be blank');
  if (!input.name?.trim()) issues.push('name: This value should not be blank');
  if (!input.clientId?.trim()) issues.push('clientId: This value should not be blank');
  if (!input.baseUrl?.trim()) issues.push('baseUrl: This value should not be blank');
  else if (!isHttpUrl(input.baseUrl)) issues.push('baseUrl: must be an absolute http(s) URL');
  for (const field of ['accountUrl', 'makeCallUrl'] as const) {
    if (!input[field]?.trim()) issues.push(`${field}: This value should not be blank`);
    else if (!isHttpUrl(input[field])) issues.push(`${field}: must be an absolute http(s) URL`);
  }
  if (input.changeUserStatusUrl !== undefined && !isHttpUrl(input.changeUserStatusUrl)) {
    issues.push('changeUserStatusUrl: must be an absolute http(s) URL');
  }
  const logo = svgLogo(input.logoSvg ?? '', issues);
  const additionalCodes = normaliseCodes(input.additionalCodes, issues);
  if (issues.length > 0) throw new RetailCrmValidationError('Invalid telephony integration module', issues);

  return {
    code: input.code,
    integrationCode: input.integrationCode ?? input.code,
    active: input.active,
    name: input.name,
    logo,
    clientId: input.clientId,
    baseUrl: input.baseUrl,
    accountUrl: input.accountUrl,
    ...(input.availableCountries ? { availableCountries: input.availableCountries } : {}),
    integrations: {
      telephony: {
        makeCallUrl: input.makeCallUrl,
        ...(input.changeUserStatusUrl ? { changeUserStatusUrl: input.changeUserStatusUrl } : {}),
        allowEdit: input.allowEdit ?? false,
        inputEventSupported: input.inboundEvents ?? true,
        outputEventSupported: input.outboundEvents ?? true,
        hangupEventSupported: input.hangupEvents ?? true,
        additionalCodes,
        externalPhones: [...(input.externalPhones ?? [])],
      },
    },
  };
}
