const isPlainContainer = (value: object): boolean => {
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/**
 * Freezes a value and every plain object / array reachable from it, in place, and returns it. Other objects (class
 * instances, Map, Set, Date, typed arrays) are left as they are: freezing them would not stop their mutating
 * methods, or throws (typed arrays). Getters are not called; cycles and shared children are visited once.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  const seen = new WeakSet<object>();
  const stack: object[] = [value];
  while (stack.length > 0) {
    const current = stack.pop() as object;
    if (seen.has(current) || !isPlainContainer(current)) continue;
    seen.add(current);
    Object.freeze(current);
    for (const key of Reflect.ownKeys(current)) {
      const child = Object.getOwnPropertyDescriptor(current, key)?.value as unknown;
      if (typeof child === 'object' && child !== null) stack.push(child);
    }
  }
  return value;
}
