import { hashPassword } from './password.js';

/** An operator's account, as the protocol needs it (a store may keep more). */
export interface PhoneUser {
  /** Stable id, the JWT's `user_id`. */
  id: string;
  /** Login name; unique in the store. */
  username: string;
  /** `scrypt$...` hash from {@link hashPassword}; never the password itself. */
  passwordHash: string;
  /** Reported to the app by `/api/phone/user/info/`. */
  isAdmin: boolean;
  /** An inactive user can neither log in nor refresh (401 `user_inactive`). */
  isActive: boolean;
}

/** Port: where operators' accounts live. Usernames are unique. */
export interface UserStore {
  /** The user with this exact username, or `undefined`. */
  findByUsername(username: string): Promise<PhoneUser | undefined>;
  /** The user with this id, or `undefined`. */
  findById(id: string): Promise<PhoneUser | undefined>;
  /** Inserts or replaces the user by `id` (a new username frees the old one). */
  save(user: PhoneUser): Promise<void>;
}

/** Single-process {@link UserStore}. */
export class InMemoryUserStore implements UserStore {
  private readonly byId = new Map<string, PhoneUser>();
  async findByUsername(username: string): Promise<PhoneUser | undefined> {
    for (const user of this.byId.values()) if (user.username === username) return { ...user };
    return undefined;
  }
  async findById(id: string): Promise<PhoneUser | undefined> {
    const user = this.byId.get(id);
    return user ? { ...user } : undefined;
  }
  async save(user: PhoneUser): Promise<void> {
    this.byId.set(user.id, { ...user });
  }
}

/** Creates (or replaces) a user with a freshly hashed password. */
export async function createUser(
  store: UserStore,
  input: { id: string; username: string; password: string; isAdmin?: boolean; isActive?: boolean },
): Promise<PhoneUser> {
  const user: PhoneUser = {
    id: input.id,
    username: input.username,
    passwordHash: await hashPassword(input.password),
    isAdmin: input.isAdmin ?? false,
    isActive: input.isActive ?? true,
  };
  await store.save(user);
  return user;
}
