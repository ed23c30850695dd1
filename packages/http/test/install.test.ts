import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker } from '@stepflow-packs/core/client';
import { installFromTarballs, type InstalledPackages } from '@stepflow-packs/core/testing';
import {
  readTryIt,
  runTryIt,
  shippedExamples,
  splitInstall,
  summarize,
} from '../../../scripts/try-it.mjs';
import { json, startServer, type FixtureServer } from './helpers/server.js';
import { rpcError } from './helpers/worker.js';

const packageDir = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));
const { version } = JSON.parse(readFileSync(`${packageDir('http')}/package.json`, 'utf8')) as {
  version: string;
};

/** The README's "Try it" section: installs this pack and the runner, then runs its commands. */
const readme = readTryIt(`${packageDir('http')}/README.md`);
const tryIt = { ...splitInstall(readme.install), commands: readme.commands };

/** The pack installs alone from its `pnpm pack` tarball (with core) into an empty folder. */
describe('installing @stepflow-packs/http from its tarball', () => {
  let installed: InstalledPackages;
  let server: FixtureServer;
  beforeAll(async () => {
    server = await startServer((_req, res) => json(res, { installed: true }));
    installed = await installFromTarballs(['core', ...tryIt.workspace].map(packageDir), {
      timeoutMs: 60_000,
    });
  }, 150_000);
  afterAll(async () => {
    await server.close();
    if (installed) rmSync(dirname(installed.dir), { recursive: true, force: true });
  });

  it('prints its version', () => {
    expect(
      execFileSync(installed.bin('stepflow-pack-http'), ['--version'], {
        encoding: 'utf8',
        timeout: 10_000,
      }).trim(),
    ).toBe(version);
  });

  it('serves http_request over stdio from the installed binary, allowlist included', async () => {
    const worker = await startWorker(
      {
        transport: 'stdio',
        command: installed.bin('stepflow-pack-http'),
        args: ['--transport', 'stdio', '--allow-host', '127.0.0.1'],
        env: { PATH: process.env.PATH ?? '' },
        cwd: installed.dir,
      },
      { dialect: 'v0.8', requestTimeoutMs: 10_000 },
    );
    try {
      expect(await worker.execute('/http_request', { url: `${server.url}/` })).toMatchObject({
        success: true,
        data: { installed: true },
      });
      expect(await rpcError(worker.execute('/fetch_json', { url: 'http://[::1]/' }))).toMatchObject(
        { code: -32103, data: { reason: 'address_blocked' } },
      );
    } finally {
      await worker.close();
    }
  }, 20_000);

  it('runs the README "Try it" commands from the installed tarballs: the scoped npx lists the components, the shipped examples pass', async () => {
    expect(tryIt.registry).toEqual([]);
    const shipped = shippedExamples(installed.dir, 'http');
    expect(shipped.files).toEqual(
      expect.arrayContaining(['stepflow-config.yml', 'stepflow-config.v0.13.yml']),
    );
    expect(shipped.escaping).toEqual([]);
    const result = summarize(await runTryIt(installed.dir, tryIt.commands));
    expect(result.components?.length).toBeGreaterThan(1);
    expect(result.components).toContainEqual({
      component_id: 'health_check',
      path: '/health_check',
    });
    expect(result.failed).toBe(0);
    expect(result.passed).toBeGreaterThan(0);
  }, 180_000);
});
