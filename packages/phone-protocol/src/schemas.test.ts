import { describe, expect, it } from 'vitest';
import {
  callCommandSchema,
  deviceRegisterRequestSchema,
  extendedCallUpdateSchema,
  heartbeatRequestSchema,
  legacyCallUpdateSchema,
  telemetryBatchSchema,
} from './schemas.js';

describe('wire schemas', () => {
  it('keep unknown fields instead of rejecting them', () => {
    const parsed = deviceRegisterRequestSchema.parse({ device_id: 'd', device_name: 'n', brand_new: 1 });
    expect(parsed).toEqual({ device_id: 'd', device_name: 'n', brand_new: 1 });
    expect(extendedCallUpdateSchema.parse({ call_request_id: '1', call_status: 'unknown', x: true }).x).toBe(true);
  });

  it('every request and response schema accepts and keeps unknown fields', async () => {
    const all = await import('./schemas.js');
    const samples: Array<[{ safeParse(v: unknown): { success: boolean; data?: unknown } }, object]> = [
      [all.tokenObtainRequestSchema, { username: 'u', password: 'p' }],
      [all.tokenObtainResponseSchema, { access: 'a', refresh: 'r', is_admin: false }],
      [all.tokenRefreshRequestSchema, { refresh: 'r' }],
      [all.tokenRefreshResponseSchema, { access: 'a' }],
      [all.qrExchangeRequestSchema, { token: 't' }],
      [all.qrExchangeResponseSchema, { access: 'a', refresh: 'r', username: 'u' }],
      [all.userInfoResponseSchema, { id: '1', username: 'u', is_admin: false, is_active: true }],
      [all.authErrorSchema, { detail: 'x', code: 'token_not_valid' }],
      [all.deviceRegisterRequestSchema, { device_id: 'd' }],
      [all.deviceRegisterResponseSchema, { ok: true, device_id: 'd' }],
      [all.heartbeatRequestSchema, { device_id: 'd' }],
      [all.pullQuerySchema, { device_id: 'd' }],
      [all.callCommandSchema, { id: '1', phone: '+7' }],
      [all.legacyCallUpdateSchema, { call_request_id: '1', call_status: 'unknown' }],
      [all.extendedCallUpdateSchema, { call_request_id: '1', call_status: 'unknown', action_source: 'history' }],
      [all.callUpdateResponseSchema, { ok: true, acknowledged: false }],
      [all.telemetryBatchSchema, { device_id: 'd', items: [{ ts: 't', type: 'x', future: 1 }] }],
      [all.logsBundleSchema, { device_id: 'd', ts: 't', payload: 'p' }],
      [all.okResponseSchema, { ok: true }],
    ];
    for (const [schema, sample] of samples) {
      const parsed = schema.safeParse({ ...sample, added_in_v2: { nested: [1] } });
      expect(parsed.success).toBe(true);
      expect(parsed.data).toHaveProperty('added_in_v2', { nested: [1] });
    }
  });

  it('fcm_token is optional', () => {
    expect(deviceRegisterRequestSchema.safeParse({ device_id: 'd' }).success).toBe(true);
    expect(deviceRegisterRequestSchema.safeParse({ device_name: 'd' }).success).toBe(false);
  });

  it('accepts exactly the five call statuses and five action sources', () => {
    for (const status of ['connected', 'no_answer', 'rejected', 'no_action', 'unknown']) {
      expect(legacyCallUpdateSchema.safeParse({ call_request_id: '1', call_status: status }).success).toBe(true);
    }
    expect(legacyCallUpdateSchema.safeParse({ call_request_id: '1', call_status: 'busy' }).success).toBe(false);
    for (const source of ['crm_ui', 'notification', 'history', 'manual', 'unknown']) {
      const body = { call_request_id: '1', call_status: 'connected', action_source: source };
      expect(extendedCallUpdateSchema.safeParse(body).success).toBe(true);
    }
    const bad = { call_request_id: '1', call_status: 'connected', action_source: 'robot' };
    expect(extendedCallUpdateSchema.safeParse(bad).success).toBe(false);
  });

  it('normalises numeric ids to strings', () => {
    expect(callCommandSchema.parse({ id: 12345, phone: '+7' }).id).toBe('12345');
    expect(legacyCallUpdateSchema.parse({ call_request_id: 7, call_status: 'connected' }).call_request_id).toBe('7');
    expect(callCommandSchema.safeParse({ id: '1', phone: '' }).success).toBe(false);
  });

  it('parses the seed heartbeat and telemetry examples', () => {
    const hb = heartbeatRequestSchema.parse({
      device_id: 'ab12cd34ef56',
      device_name: 'Xiaomi Redmi Note 9',
      app_version: '1.0.0',
      last_poll_code: 204,
      last_poll_at: '2026-02-10T10:10:00Z',
      encryption_enabled: true,
      queue_stuck: true,
      stuck_count: 12,
      oldest_stuck_age_sec: 3600,
      stuck_by_type: { call_update: 10, telemetry: 2 },
    });
    expect(hb.stuck_by_type).toEqual({ call_update: 10, telemetry: 2 });
    const batch = telemetryBatchSchema.parse({
      device_id: 'ab12cd34ef56',
      items: [
        {
          ts: '2026-02-10T10:10:00Z',
          type: 'pull_call',
          http_code: 204,
          value_ms: 25000,
          extra: { mode: 'LONG_POLL' },
        },
      ],
    });
    expect(batch.items[0]?.extra).toEqual({ mode: 'LONG_POLL' });
    expect(telemetryBatchSchema.safeParse({ device_id: 'x', items: [{ ts: 'x' }] }).success).toBe(false);
  });
});

describe('JSON Schema export', () => {
  it('describes every request, with the enums and required fields of the seed', async () => {
    const { phoneRequestJsonSchemas } = await import('./schemas.js');
    const schemas = phoneRequestJsonSchemas();
    const update = schemas.callsUpdate as {
      required: string[];
      properties: Record<string, { enum?: string[]; anyOf?: Array<{ enum?: string[] }> }>;
    };
    expect(update.required).toEqual(expect.arrayContaining(['call_request_id', 'call_status']));
    expect(update.properties.call_status?.enum).toEqual(['connected', 'no_answer', 'rejected', 'no_action', 'unknown']);
    expect(Object.keys(schemas)).toHaveLength(9);
    expect((schemas.deviceRegister as { required: string[] }).required).toEqual(['device_id']);
  });
});
