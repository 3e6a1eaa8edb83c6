import { z } from 'zod';

/** The `pagination` block of every RetailCRM list answer (page numbers start at 1). */
export const paginationSchema = z.looseObject({
  limit: z.number(),
  totalCount: z.number(),
  currentPage: z.number(),
  totalPageCount: z.number(),
});
/** Parsed `pagination` block: page size, total items, this page, number of pages. */
export type Pagination = z.infer<typeof paginationSchema>;

/** The bare `{ success: true }` answer of methods that return nothing else. */
export const successResponseSchema = z.looseObject({ success: z.literal(true) });
/** Parsed {@link successResponseSchema}. */
export type SuccessResponse = z.infer<typeof successResponseSchema>;

/** `POST .../create` and `.../edit` answers. */
export const createResponseSchema = z.looseObject({
  success: z.literal(true),
  id: z.number().optional(),
});
/** Parsed {@link createResponseSchema}: `id` of the created or edited entity, when RetailCRM sends one. */
export type CreateResponse = z.infer<typeof createResponseSchema>;

/** Page size accepted by RetailCRM list endpoints. */
export type PageLimit = 20 | 50 | 100;

/** Paging of a list call, sent as the `page` and `limit` query parameters. */
export interface PageParams {
  /** 1-based page number (RetailCRM's default 1). */
  page?: number;
  /** Items per page (RetailCRM's default 20). */
  limit?: PageLimit;
}

/** `Y-m-d H:i:s`, the only date-time format RetailCRM accepts. */
export const retailCrmDateTimeSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'expected "Y-m-d H:i:s" (e.g. 2025-01-09 19:20:00)');

/**
 * A RetailCRM numeric id. The official models disagree on its type (PHP has some as strings), so a numeric
 * string is accepted and read as the number.
 */
export const retailCrmIdSchema = z.union([
  z.number(),
  z
    .string()
    .regex(/^\d+$/, 'expected a numeric id')
    .transform((value) => Number(value)),
]);
