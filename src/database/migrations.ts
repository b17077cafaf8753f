import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';

async function withOwnerDataSource<T>(url: string, work: (ds: DataSource) => Promise<T>): Promise<T> {
  const ds = new DataSource(dataSourceOptions({ url, poolSize: 1, applicationName: 'clearing-house-migrations' }));
  await ds.initialize();
  try {
    return await work(ds);
  } finally {
    await ds.destroy();
  }
}

/** Applies pending migrations as the owner role; returns their names. */
export async function runMigrations(url: string): Promise<string[]> {
  return withOwnerDataSource(url, async (ds) => (await ds.runMigrations({ transaction: 'each' })).map((m) => m.name));
}

export async function revertLastMigration(url: string): Promise<void> {
  await withOwnerDataSource(url, (ds) => ds.undoLastMigration({ transaction: 'each' }));
}

export async function pendingMigrations(url: string): Promise<boolean> {
  return withOwnerDataSource(url, (ds) => ds.showMigrations());
}
