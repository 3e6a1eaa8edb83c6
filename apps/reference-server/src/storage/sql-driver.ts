/** The tiny SQL surface both PGlite and node-postgres provide; the storage is written against it. */
export interface SqlQueryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a multi-statement script without parameters. */
  exec(sql: string): Promise<void>;
}

export interface SqlDriver extends SqlQueryable {
  readonly kind: 'pglite' | 'postgres';
  transaction<R>(fn: (tx: SqlQueryable) => Promise<R>): Promise<R>;
  close(): Promise<void>;
}
