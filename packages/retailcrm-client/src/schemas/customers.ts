import { z } from 'zod';
import { type PageParams, paginationSchema } from './common.js';

/** One entry of a customer's `phones` list. */
export const customerPhoneSchema = z.looseObject({ number: z.string() });

/** A customer as RetailCRM answers it; fields not listed here are kept (loose object). */
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
/** Parsed {@link customerSchema}. */
export type RetailCrmCustomer = z.infer<typeof customerSchema>;

/** `GET /api/v5/customers` answer: one page of customers. */
export const customersListResponseSchema = z.looseObject({
  success: z.literal(true),
  pagination: paginationSchema,
  customers: z.array(customerSchema),
});
/** Parsed {@link customersListResponseSchema}. */
export type CustomersListResponse = z.infer<typeof customersListResponseSchema>;

/** `GET /api/v5/customers/{id}` answer. */
export const customerResponseSchema = z.looseObject({ success: z.literal(true), customer: customerSchema });
/** Parsed {@link customerResponseSchema}. */
export type CustomerResponse = z.infer<typeof customerResponseSchema>;

/** Body of `customers/create` and `customers/{id}/edit`; unknown fields are passed through. */
export interface CustomerInput {
  /** Our own id for the customer; later calls can look it up with `by: 'externalId'`. */
  externalId?: string;
  /** Given name. */
  firstName?: string;
  /** Family name. */
  lastName?: string;
  /** Middle name (отчество). */
  patronymic?: string;
  /** Contact e-mail. */
  email?: string;
  /** Contact phones. */
  phones?: {
    /** The phone number, as text. */
    number: string;
  }[];
  /** RetailCRM user id of the manager responsible for the customer. */
  managerId?: number;
  [field: string]: unknown;
}

/** `GET /api/v5/customers` filters; `name` searches name, phone and e-mail. */
export interface CustomersFilter {
  /** Substring of the name, a phone or an e-mail. */
  name?: string;
  /** E-mail of the customer. */
  email?: string;
  /** RetailCRM customer ids (`filter[ids][]`). */
  ids?: number[];
  /** Our external ids (`filter[externalIds][]`). */
  externalIds?: string[];
  /** RetailCRM user ids of responsible managers (`filter[managers][]`). */
  managers?: number[];
  /** Site codes (`filter[sites][]`). */
  sites?: string[];
  [field: string]: string | number | boolean | string[] | number[] | undefined;
}

/** Paging and filters of `GET /api/v5/customers`. */
export interface CustomersListParams extends PageParams {
  /** Sent as `filter[...]` query parameters. */
  filter?: CustomersFilter;
}

/** How `customers.get` and `customers.edit` read the id they are given. */
export interface CustomerLookupOptions {
  /** Whether the id is RetailCRM's `id` or our `externalId`; default: `id` for a number, `externalId` for a string. */
  by?: 'id' | 'externalId';
  /** Site code the `externalId` belongs to (needed when the key sees several sites). */
  site?: string;
}
