import type { SelectQueryBuilder } from "kysely";

/** Newest first, `limit` rows after the opaque `cursor` (the last id of the previous page). */
export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export async function page<DB, TB extends keyof DB, O extends { id: string }>(
  query: SelectQueryBuilder<DB, TB, O>,
  idColumn: string,
  request: PageRequest,
): Promise<Page<O>> {
  // biome-ignore lint/suspicious/noExplicitAny: the id column is named by the caller's table
  let q = query.orderBy(idColumn as any, "desc").limit(request.limit + 1);
  // biome-ignore lint/suspicious/noExplicitAny: same
  if (request.cursor) q = q.where(idColumn as any, "<", request.cursor);
  const rows = await q.execute();
  const more = rows.length > request.limit;
  const data = more ? rows.slice(0, request.limit) : rows;
  return { data, next_cursor: more ? (data.at(-1)?.id ?? null) : null };
}
