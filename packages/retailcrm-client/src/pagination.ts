import type { PageLimit, Pagination } from './schemas/common.js';

/**
 * Walks every page of a list endpoint, starting at `params.page` (default 1), stopping after the last
 * page RetailCRM reports (or at the first empty page, should `pagination` be inconsistent). An answer without
 * `pagination` (e.g. some `user-groups` responses) is a single page.
 */
export async function* paginate<
  P extends { page?: number; limit?: PageLimit },
  R extends { pagination?: Pagination | undefined },
  I,
>(
  params: P,
  fetchPage: (params: P) => Promise<R>,
  items: (response: R) => readonly I[],
): AsyncGenerator<I, void, undefined> {
  let page = params.page ?? 1;
  for (;;) {
    const response = await fetchPage({ ...params, page, limit: params.limit ?? 100 });
    const list = items(response);
    yield* list;
    if (list.length === 0 || page >= (response.pagination?.totalPageCount ?? page)) return;
    page++;
  }
}
