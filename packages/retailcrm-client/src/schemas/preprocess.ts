import { z } from 'zod';

/** PHP serialises an empty associative array as `[]`: accept it where an object is expected. */
export function phpObject<T extends z.ZodType>(record: T) {
  return z.preprocess((value) => (Array.isArray(value) && value.length === 0 ? {} : value), record);
}

/** Some endpoints return nested objects as JSON strings; accept both. */
export function jsonStringOr<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }, schema);
}
