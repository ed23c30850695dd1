import { createRequire } from 'node:module';
import { definePack } from '@stepflow-packs/core';
import { fetchJson } from './components/fetch-json.js';
import { httpRequest } from './components/http-request.js';
import { closeEngines } from './engine.js';
import { settings } from './settings.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export const httpPack = definePack({
  name: 'http',
  version,
  description: 'Outbound HTTP requests (undici), SSRF-safe by default',
  settings,
  components: [httpRequest, fetchJson],
  close: closeEngines,
});

export { fetchJson, httpRequest, settings };
export { HttpEngine, type HttpCall, type Outcome } from './engine.js';
export { UrlPolicy, BlockedError } from './net/policy.js';
export { classify, parseIp } from './net/address.js';
export type { HttpSettings } from './settings.js';
