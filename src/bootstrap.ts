import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express, { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { ApiErrorDto } from './common/api-error.dto';
import { requestIdOf, toApiError } from './common/api-exception.filter';
import { bodySafety } from './common/body-safety';
import { createValidationPipe } from './common/validation';
import { AppConfig } from './config/app-config';
import { AuditWriter } from './audit/audit-writer';
import { SessionsService } from './auth/sessions.service';
import { QueueRegistry } from './operations/queue-registry';
import { QUEUE_BOARD_PATH, queueBoard } from './operations/queue-board';

export const API_DOCS_PATH = 'api/docs';

/**
 * Everything main.ts does to the application before listening, shared with the end-to-end
 * tests so that they exercise the same pipeline (helmet, body limit, validation, errors).
 */
export function configureApp(app: NestExpressApplication): void {
  const config = app.get(AppConfig);
  app.useLogger(app.get(Logger));
  app.set('trust proxy', config.get('TRUST_PROXY'));
  app.disable('x-powered-by');
  app.use(helmet());
  app.use((_req: Request, res: Response, next: NextFunction) => {
    // Responses may carry case data: never keep them in a shared or browser cache. First, so
    // that even the body parser's error answers carry it.
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(express.json({ limit: config.get('BODY_LIMIT') }));
  app.use(express.urlencoded({ extended: false, limit: config.get('BODY_LIMIT') }));
  // Nesting depth, prototype keys and unstorable strings, before anything maps the body.
  app.use(bodySafety);
  // Body-parser and body-safety errors (too large, malformed, too deep) happen before Nest; give them the same shape.
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!err) return next();
    const body = toApiError(err, requestIdOf(req));
    res.status(body.statusCode).json(body);
  });
  // The queue board is plain Express, outside Nest's guards: it brings its own (administrators only).
  app.use(QUEUE_BOARD_PATH, ...queueBoard({ sessions: app.get(SessionsService), audit: app.get(AuditWriter), registry: app.get(QueueRegistry) }));
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  setUpApiDocs(app);
}

export function setUpApiDocs(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Clearing house API')
      .setDescription(
        'Confidential clearing-house case management for sector-led improvement in English local government. ' +
          'Every error has the ApiError shape. Sign in at POST /auth/sign-in and send the access token as a Bearer token.',
      )
      .setVersion('0.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token from POST /auth/sign-in' })
      .build(),
    { extraModels: [ApiErrorDto] },
  );
  SwaggerModule.setup(API_DOCS_PATH, app, document, { jsonDocumentUrl: `${API_DOCS_PATH}/openapi.json` });
}
