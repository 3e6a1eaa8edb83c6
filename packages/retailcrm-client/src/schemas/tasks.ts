import { z } from 'zod';

/** `Y-m-d H:i`: the task deadline format (minutes, no seconds), as the PHP client serialises `Task::$datetime`. */
export const retailCrmTaskDateTimeSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/, 'expected "Y-m-d H:i" (e.g. 2025-01-09 19:20)');

/** A customer or order reference inside a task: RetailCRM id, or externalId (+ site). */
const taskReferenceSchema = z.looseObject({
  id: z.number().optional(),
  externalId: z.string().optional(),
  site: z.string().optional(),
});

/** Body of `POST /api/v5/tasks/create` (field `task`); unknown fields are passed through. */
export const taskInputSchema = z.looseObject({
  /** What to do, e.g. "Call back +79991234567 (missed call)". */
  text: z.string().trim().min(1, 'text must not be empty'),
  /** RetailCRM user id of the manager who should do it. */
  performerId: z.number().int().positive(),
  commentary: z.string().optional(),
  /** Deadline, `Y-m-d H:i` in the account's time zone. */
  datetime: retailCrmTaskDateTimeSchema.optional(),
  complete: z.boolean().optional(),
  /** Phone the task is about (shown as a click-to-call link). */
  phone: z.string().optional(),
  phoneSite: z.string().optional(),
  customer: taskReferenceSchema.extend({ type: z.string().optional() }).optional(),
  order: taskReferenceSchema.extend({ number: z.string().optional() }).optional(),
});
/** What `tasks.create` takes (the schema's input side: `text` before trimming). */
export type TaskInput = z.input<typeof taskInputSchema>;

/** `POST /api/v5/tasks/create` answer: the new task's id. */
export const taskCreateResponseSchema = z.looseObject({
  success: z.literal(true),
  id: z.number(),
});
/** Parsed {@link taskCreateResponseSchema}. */
export type TaskCreateResponse = z.infer<typeof taskCreateResponseSchema>;
