import { z } from 'zod';
import { type PageParams, paginationSchema } from './common.js';

export const customerPhoneSchema = z.looseObject({ number: z.string() });

export const customerSchema = z.looseObject({
  id: z.number(),
  externalId: z.string().optional(),
  type: z.string().optional(),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  patronymic: z.string().optional(),
  email: z.string().optional(),
  phones: z.array(customerPhoneSchema).optional(),
  managerId: z.number().optional(),
  site: z.string().optional(),
  createdAt: z.string().optional(),
  vip: z.boolean().optional(),
  bad: z.boolean().optional(),
});
export type RetailCrmCustomer = z.infer<typeof customerSchema>;

export const customersListResponseSchema = z.looseObject({
  success: z.literal(true),
  pagination: paginationSchema,
  customers: z.array(customerSchema),
});
export type CustomersListResponse = z.infer<typeof customersListResponseSchema>;

export const customerResponseSchema = z.looseObject({ success: z.literal(true), customer: customerSchema });
export type CustomerResponse = z.infer<typeof customerResponseSchema>;

/** Body of `customers/create` and `customers/{id}/edit`; unknown fields are passed through. */
export interface CustomerInput {
  externalId?: string;
  firstName?: string;
  lastName?: string;
  patronymic?: string;
  email?: string;
  phones?: { number: string }[];
  managerId?: number;
  [field: string]: unknown;
}

/** `GET /api/v5/customers` filters; `name` searches name, phone and e-mail. */
export interface CustomersFilter {
  name?: string;
  email?: string;
  ids?: number[];
  externalIds?: string[];
  managers?: number[];
  sites?: string[];
  [field: string]: string | number | boolean | string[] | number[] | undefined;
}

export interface CustomersListParams extends PageParams {
  filter?: CustomersFilter;
}

export interface CustomerLookupOptions {
  by?: 'id' | 'externalId';
  site?: string;
}
