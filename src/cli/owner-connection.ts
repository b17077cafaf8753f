import { DataSource } from 'typeorm';
import { EnvironmentVariables } from '../config/environment';
import { dataSourceOptions } from '../database/data-source-options';

/** Runs `work` on a connection as the owner role (DATABASE_MIGRATION_URL), closed afterwards whatever happens. */
export async function withOwnerConnection<T>(env: EnvironmentVariables, work: (ds: DataSource) => Promise<T>): Promise<T> {
  const ds = new DataSource(dataSourceOptions({ url: env.DATABASE_MIGRATION_URL!, poolSize: 2, applicationName: 'clearing-house-cli' }));
  await ds.initialize();
  try {
    return await work(ds);
  } finally {
    await ds.destroy();
  }
}
