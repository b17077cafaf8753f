import { Global, Injectable, Logger, Module, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { AppConfigModule } from '../config/config.module';
import { dataSourceOptions } from './data-source-options';
import { runMigrations } from './migrations';

/**
 * Refuses to start against a database whose schema is behind the code, unless told to
 * migrate on start (then it migrates as the owner role, not as the service's role).
 */
@Injectable()
class PendingMigrationsCheck implements OnModuleInit {
  private readonly logger = new Logger('Database');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!(await this.dataSource.showMigrations())) return;
    if (!this.config.get('MIGRATIONS_RUN_ON_START')) {
      throw new Error(
        'The database has pending migrations. Run `npm run migration:run` (or set MIGRATIONS_RUN_ON_START=true) and start again.',
      );
    }
    const applied = await runMigrations(this.config.get('DATABASE_MIGRATION_URL')!);
    this.logger.log(`Applied ${applied.length} migration(s) on start`);
  }
}

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      imports: [AppConfigModule],
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions({ url: config.get('DATABASE_URL')!, poolSize: config.get('DATABASE_POOL_SIZE') }),
        // Fail fast at start-up with a clear message instead of retrying for minutes.
        retryAttempts: 0,
      }),
    }),
  ],
  providers: [PendingMigrationsCheck],
})
export class DatabaseModule {}
