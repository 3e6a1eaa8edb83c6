/**
 * The most timestamps that fall within any half-open window `[t, t + windowMs)`: what a server counting a sliding
 * window sees. Feed it `fake.state.requests.map((r) => r.at)` to check a client against a rate limit.
 */
export function maxInAnyWindow(times: readonly number[], windowMs = 1000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}
