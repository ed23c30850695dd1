import { createRequire } from 'node:module';
import { definePack } from '@stepflow-packs/core';
import { bulkInsert } from './components/bulk-insert.js';
import { bulkUpsert } from './components/bulk-upsert.js';
import { copyOut } from './components/copy-out.js';
import { databaseQuery } from './components/database-query.js';
import { transaction } from './components/transaction.js';
import { closePools } from './connection.js';
import { settings } from './settings.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export const postgresPack = definePack({
  name: 'postgres',
  version,
  description: 'PostgreSQL queries and COPY-speed bulk operations',
  settings,
  components: [databaseQuery, bulkInsert, bulkUpsert, copyOut, transaction],
  close: closePools,
});

export { bulkInsert, bulkUpsert, copyOut, databaseQuery, settings, transaction };
export { closePools };
export { parseQualifiedName, quoteIdent, MAX_IDENTIFIER_BYTES } from './identifiers.js';
export { redact } from './redact.js';
export type { PostgresSettings } from './settings.js';
