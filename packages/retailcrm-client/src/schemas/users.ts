import { z } from 'zod';
import { type PageParams, paginationSchema } from './common.js';

/** The manager statuses RetailCRM knows (`free`: available for calls). */
export const userStatusValues = ['free', 'busy', 'dinner', 'break'] as const;
/** One of {@link userStatusValues}. */
export type RetailCrmUserStatus = (typeof userStatusValues)[number];

/** A user group (role) as RetailCRM answers it. */
export const userGroupSchema = z.looseObject({
  id: z.number().optional(),
  name: z.string().optional(),
  code: z.string().optional(),
  isManager: z.boolean().optional(),
  isDeliveryMen: z.boolean().optional(),
  signatureRequired: z.boolean().optional(),
});
/** Parsed {@link userGroupSchema}. */
export type RetailCrmUserGroup = z.infer<typeof userGroupSchema>;

/** A RetailCRM user (manager) as RetailCRM answers it; fields not listed here are kept (loose object). */
export const userSchema = z.looseObject({
  id: z.number(),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  patronymic: z.string().optional(),
  email: z.string().optional(),
  /** A single string in RetailCRM (not a list). */
  phone: z.string().optional(),
  active: z.boolean().optional(),
  online: z.boolean().optional(),
  isAdmin: z.boolean().optional(),
  isManager: z.boolean().optional(),
  /** `free|busy|dinner|break`; kept as string so a new status never breaks parsing. */
  status: z.string().optional(),
  createdAt: z.string().optional(),
  groups: z.array(userGroupSchema).optional(),
  mgUserId: z.number().optional(),
});
/** Parsed {@link userSchema}. */
export type RetailCrmUser = z.infer<typeof userSchema>;

/** `GET /api/v5/users` answer: one page of users. */
export const usersListResponseSchema = z.looseObject({
  success: z.literal(true),
  pagination: paginationSchema,
  users: z.array(userSchema),
});
/** Parsed {@link usersListResponseSchema}. */
export type UsersListResponse = z.infer<typeof usersListResponseSchema>;

/** `GET /api/v5/users/{id}` answer. */
export const userResponseSchema = z.looseObject({ success: z.literal(true), user: userSchema });
/** Parsed {@link userResponseSchema}. */
export type UserResponse = z.infer<typeof userResponseSchema>;

/** `GET /api/v5/users` filters (sent as `filter[...]`). */
export interface UsersFilter {
  /** E-mail of the user. */
  email?: string;
  /** Only users in this status. */
  status?: RetailCrmUserStatus;
  /** Only users signed in (`true`) or not (`false`). */
  online?: boolean;
  /** Only enabled (`true`) or disabled (`false`) users. */
  active?: boolean;
  /** Only managers (`true`) or non-managers (`false`). */
  isManager?: boolean;
  /** Only administrators (`true`) or non-administrators (`false`). */
  isAdmin?: boolean;
  /** Group codes: `filter[groups][]=...`. */
  groups?: string[];
  [field: string]: string | number | boolean | string[] | number[] | undefined;
}

/** Paging and filters of `GET /api/v5/users`. */
export interface UsersListParams extends PageParams {
  /** Sent as `filter[...]` query parameters. */
  filter?: UsersFilter;
}

/** `GET /api/v5/user-groups` answer (some accounts omit `pagination`: then it is a single page). */
export const userGroupsResponseSchema = z.looseObject({
  success: z.literal(true),
  pagination: paginationSchema.optional(),
  groups: z.array(userGroupSchema),
});
/** Parsed {@link userGroupsResponseSchema}. */
export type UserGroupsResponse = z.infer<typeof userGroupsResponseSchema>;
/** Paging of `GET /api/v5/user-groups` (it takes no filter). */
export type UserGroupsListParams = PageParams;
