/**
 * Applies an extensions patch to the stored `{retailcrmUserId: extension|null}` map:
 * one extension per manager, an extension belongs to at most one manager (reassigning removes the
 * previous owner), `null` unassigns. Returns the new map (unassigned users are dropped) and who lost
 * their extension.
 */
export class ExtensionConflictError extends Error {
  readonly code = 'duplicate_extension';
  constructor(
    readonly extension: string,
    readonly userIds: string[],
  ) {
    super(`extension ${extension} is assigned to several managers in one request: ${userIds.join(', ')}`);
    this.name = 'ExtensionConflictError';
  }
}

export function applyExtensions(
  current: Readonly<Record<string, string | null>>,
  patch: Readonly<Record<string, string | null>>,
): { next: Record<string, string>; displaced: string[] } {
  const seen = new Map<string, string>();
  for (const [userId, ext] of Object.entries(patch)) {
    if (ext === null) continue;
    const other = seen.get(ext);
    if (other !== undefined) throw new ExtensionConflictError(ext, [other, userId]);
    seen.set(ext, userId);
  }
  const next: Record<string, string> = {};
  for (const [userId, ext] of Object.entries(current)) if (ext) next[userId] = ext;
  const displaced: string[] = [];
  for (const [userId, ext] of Object.entries(patch)) {
    if (ext === null) {
      delete next[userId];
      continue;
    }
    for (const [owner, ownerExt] of Object.entries(next)) {
      if (owner !== userId && ownerExt === ext && !(owner in patch)) {
        delete next[owner];
        displaced.push(owner);
      }
    }
    next[userId] = ext;
  }
  // A user moved away in the same patch may still hold an extension another patch entry took.
  return { next, displaced };
}

/** Reverse map: extension -> RetailCRM user id. */
export function ownersByExtension(map: Readonly<Record<string, string | null>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [userId, ext] of Object.entries(map)) if (ext) out.set(ext, userId);
  return out;
}
