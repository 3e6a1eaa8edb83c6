import { hashPassword } from './password.js';

export interface PhoneUser {
  id: string;
  username: string;
  /** `scrypt$...` hash from {@link hashPassword}; never the password itself. */
  passwordHash: string;
  isAdmin: boolean;
  isActive: boolean;
}

/** Port: where operators' accounts live. Usernames are unique. */
export interface UserStore {
  findByUsername(username: string): Promise<PhoneUser | undefined>;
  findById(id: string): Promise<PhoneUser | undefined>;
  save(user: PhoneUser): Promise<void>;
}

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
