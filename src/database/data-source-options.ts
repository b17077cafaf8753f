import { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { ENTITIES } from './entities';

export interface DatabaseSettings {
  url: string;
  poolSize?: number;
  applicationName?: string;
}

/** The one description of the database connection, shared by the service, the CLI and the tests. */
export function dataSourceOptions({ url, poolSize = 10, applicationName = 'clearing-house' }: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    // The schema comes only from migrations.
    synchronize: false,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    logging: false,
    applicationName,
    extra: {
      max: poolSize,
      connectionTimeoutMillis: 5_000,
      // Refuse to hang: a statement that cannot finish in time fails and the request answers.
      statement_timeout: 30_000,
      idle_in_transaction_session_timeout: 60_000,
    },
  };
}
