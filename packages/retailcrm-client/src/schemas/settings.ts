import { z } from 'zod';

/** One account setting as RetailCRM answers it: `{value, updated_at}`. */
export const settingValueSchema = z.looseObject({
  value: z.string(),
  updated_at: z.string().optional(),
});

/** One entry of `work_times`: a day type and its working and lunch hours (`HH:MM`). */
export const workTimeSchema = z.looseObject({
  day_type: z.string(),
  start_time: z.string().optional(),
  end_time: z.string().optional(),
  lunch_start_time: z.string().optional(),
  lunch_end_time: z.string().optional(),
});

/** `GET /api/v5/settings`. Every setting may be absent on an account that never set it. */
export const settingsResponseSchema = z.looseObject({
  success: z.literal(true),
  settings: z.looseObject({
    default_currency: settingValueSchema.optional(),
    system_language: settingValueSchema.optional(),
    /** IANA zone (e.g. `Europe/Moscow`): RetailCRM reads every `Y-m-d H:i:s` you send in this zone. */
    timezone: settingValueSchema.optional(),
    work_times: z.array(workTimeSchema).optional(),
    non_working_days: z.array(z.looseObject({})).optional(),
  }),
});
/** Parsed {@link settingsResponseSchema}. */
export type SettingsResponse = z.infer<typeof settingsResponseSchema>;
