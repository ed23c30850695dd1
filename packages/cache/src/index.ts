import { createRequire } from 'node:module';
import { definePack } from '@stepflow-packs/core';
import { cacheData } from './components/cache-data.js';
import { retrieveCache } from './components/retrieve-cache.js';
import { settings } from './settings.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export const cachePack = definePack({
  name: 'cache',
  version,
  description: 'TTL caching on the runtime blob store',
  settings,
  components: [cacheData, retrieveCache],
});

export { cacheData, retrieveCache, settings };
