import { z } from 'zod';

export const paginationSchema = z.looseObject({
  limit: z.number(),
  totalCount: z.number(),
  currentPage: z.number(),
  totalPageCount: z.number(),
});
export type Pagination = z.infer<typeof paginationSchema>;

export const successResponseSchema = z.looseObject({ success: z.literal(true) });
export type SuccessResponse = z.infer<typeof successResponseSchema>;

/** `POST .../create` and `.../edit` answers. */
export const createResponseSchema = z.looseObject({
  success: z.literal(true),
  id: z.number().optional(),
});
export type CreateResponse = z.infer<typeof createResponseSchema>;

/** Page size accepted by RetailCRM list endpoints. */
export type PageLimit = 20 | 50 | 100;

export interface PageParams {
  page?: number;
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
