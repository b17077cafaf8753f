import 'reflect-metadata';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Test, TestingModuleBuilder } from '@nestjs/testing';
import { AddressInfo } from 'node:net';
import { AppModule } from '../src/app.module';
import { configureApp } from '../src/bootstrap';
import { AppConfig } from '../src/config/app-config';
import { EnvironmentVariables } from '../src/config/environment';

/** The real service as the benchmarks run it (never imported by src/). */

export interface BootedService {
  app: NestExpressApplication;
  url: string;
}

/**
 * The real AppModule with these settings, configured exactly as main.ts configures it, listening on
 * a loopback port. `override` may replace providers in the testing module (the audited-read
 * baseline replaces the AuditWriter); nothing in the service itself can.
 */
export async function bootApp(
  settings: EnvironmentVariables,
  options: { logger: false | Array<'error'>; override?: (builder: TestingModuleBuilder) => TestingModuleBuilder },
): Promise<BootedService> {
  let builder = Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(AppConfig)
    .useValue(Object.assign(Object.create(AppConfig.prototype), { get: <K extends keyof EnvironmentVariables>(key: K) => settings[key] }));
  if (options.override) builder = options.override(builder);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: options.logger });
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}

/** One JSON request to the service. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function json(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}
