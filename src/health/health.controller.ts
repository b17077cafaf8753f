import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../access-control/decorators';
import { DomainError } from '../common/domain-error';
import { ErrorCode } from '../common/error-code';
import { RedisHealthIndicator } from './redis.health';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process is up and serving' })
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: PostgreSQL and Redis answer' })
  @ApiServiceUnavailableResponse({ description: 'A dependency is down; the body says which' })
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.db.pingCheck('database', { timeout: 1_500 }), () => this.redis.isHealthy('redis')]);
    } catch (error) {
      // Terminus reports which dependency is down in its exception; the API's error filter would
      // drop that, so name them here, as up or down only (driver messages can name hosts).
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const { details = {} } = error.getResponse() as Partial<HealthCheckResult>;
      const status = Object.fromEntries(Object.entries(details).map(([name, d]) => [name, d.status]));
      const down = Object.keys(status).filter((name) => status[name] !== 'up');
      throw new DomainError(ErrorCode.ServiceUnavailable, `Not ready: ${down.join(', ') || 'a dependency'} unavailable`, undefined, status);
    }
  }
}
