import { z } from 'zod';

/** Body of `POST /api/v5/customers/notes/create` (field `note`); unknown fields are passed through. */
export const customerNoteInputSchema = z.looseObject({
  text: z.string().trim().min(1, 'text must not be empty'),
  /** RetailCRM user id shown as the note's author. */
  managerId: z.number().int().positive().optional(),
  /** The customer: RetailCRM `id`, or `externalId` (+ `site` when the key sees several sites). */
  customer: z
    .looseObject({
      id: z.number().int().optional(),
      externalId: z.string().optional(),
      site: z.string().optional(),
    })
    .refine((customer) => customer.id !== undefined || customer.externalId !== undefined, {
      message: 'customer needs id or externalId',
    }),
});
/** What `customers.notes.create` takes (the schema's input side: `text` before trimming). */
export type CustomerNoteInput = z.input<typeof customerNoteInputSchema>;

/** `POST /api/v5/customers/notes/create` answer: the new note's id. */
export const customerNoteCreateResponseSchema = z.looseObject({ success: z.literal(true), id: z.number() });
/** Parsed {@link customerNoteCreateResponseSchema}. */
export type CustomerNoteCreateResponse = z.infer<typeof customerNoteCreateResponseSchema>;
