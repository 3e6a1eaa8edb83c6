import { z } from 'zod';
import { type PageParams, paginationSchema } from './common.js';

export const userStatusValues = ['free', 'busy', 'dinner', 'break'] as const;
export type RetailCrmUserStatus = (typeof userStatusValues)[number];

export const userGroupSchema = z.looseObject({
  id: z.number().optional(),
  name: z.string().optional(),
  code: z.string().optional(),
  isManager: z.boolean().optional(),
  isDeliveryMen: z.boolean().optional(),
  signatureRequired: z.boolean().optional(),
});
export type RetailCrmUserGroup = z.infer<typeof userGroupSchema>;

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
export type RetailCrmUser = z.infer<typeof userSchema>;

export const usersListResponseSchema = z.looseObject({
  success: z.literal(true),
  pagination: paginationSchema,
  users: z.array(userSchema),
});
export type UsersListResponse = z.infer<typeof usersListResponseSchema>;

export const userResponseSchema = z.looseObject({ success: z.literal(true), user: userSchema });
export type UserResponse = z.infer<typeof userResponseSchema>;

/** `GET /api/v5/users` filters (sent as `filter[...]`). */
export interface UsersFilter {
  email?: string;
  status?: RetailCrmUserStatus;
  online?: boolean;
  active?: boolean;
  isManager?: boolean;
  isAdmin?: boolean;
  /** Group codes: `filter[groups][]=...`. */
  groups?: string[];
  [field: string]: string | number | boolean | string[] | number[] | undefined;
}

export interface UsersListParams extends PageParams {
  filter?: UsersFilter;
}

export const userGroupsResponseSchema = z.looseObject({
  success: z.literal(true),
  pagination: paginationSchema.optional(),
  groups: z.array(userGroupSchema),
});
export type UserGroupsResponse = z.infer<typeof userGroupsResponseSchema>;
export type UserGroupsListParams = PageParams;
