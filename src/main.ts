import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { API_DOCS_PATH, configureApp } from './bootstrap';
import { AppConfig } from './config/app-config';

async function main(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { bodyParser: false, bufferLogs: true, abortOnError: false });
  configureApp(app);
  const config = app.get(AppConfig);
  await app.listen(config.get('PORT'), config.get('HOST'));
  const url = `http://${config.get('HOST')}:${config.get('PORT')}`;
  process.stdout.write(`Clearing house API listening on ${url} (API docs: ${url}/${API_DOCS_PATH})\n`);
}

main().catch((error: unknown) => {
  // Start-up failures (bad configuration, unreachable database, pending migrations) end here.
  process.stderr.write(`The clearing house could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
