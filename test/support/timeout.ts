// End-to-end tests boot the application and talk to PostgreSQL and Redis on a 2-core machine.
jest.setTimeout(60_000);
