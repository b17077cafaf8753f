import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { validateEnvironment } from '../config/environment';
import { dataSourceOptions } from './data-source-options';

/** For the TypeORM CLI (`typeorm migration:generate -d dist/src/database/data-source.js`); runs as the owner role. */
const env = validateEnvironment(process.env);
export default new DataSource(dataSourceOptions({ url: env.DATABASE_MIGRATION_URL!, poolSize: 2, applicationName: 'clearing-house-migrations' }));
