import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import request from 'supertest';
import { QueueName } from '../../src/notifications/queues';
import { expectApiError } from '../support/api-error';
import { createTestApp, TestApp } from '../support/app';

describe('health', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers liveness without sign-in', async () => {
    const res = await request(t.http).get('/health');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
  });

  it('answers readiness without sign-in, naming the database and Redis as up', async () => {
    const res = await request(t.http).get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.info).toEqual({ database: { status: 'up' }, redis: { status: 'up' } });
    expect(res.body.error).toEqual({});
  });
});

describe('readiness when a dependency is down', () => {
  let t: TestApp;
  let queue: Queue;
  beforeAll(async () => {
    t = await createTestApp();
    queue = t.app.get<Queue>(getQueueToken(QueueName.Notifications));
  });
  afterAll(async () => {
    if (queue.client.status !== 'ready') await queue.client.connect();
    await t.close();
  });

  it('answers 503 naming what is down, and 200 again once it is back; liveness is unaffected', async () => {
    queue.client.disconnect();
    const res = await request(t.http).get('/health/ready');
    const body = expectApiError(res, 503, 'SERVICE_UNAVAILABLE');
    expect(body.details).toEqual({ database: 'up', redis: 'down' });
    expect(body.message).toContain('redis');
    expect((await request(t.http).get('/health')).status).toBe(200);

    await queue.client.connect();
    const back = await request(t.http).get('/health/ready');
    expect(back.status).toBe(200);
    expect(back.body.info).toEqual({ database: { status: 'up' }, redis: { status: 'up' } });
  });
});
