#!/usr/bin/env node
// Provisions real Stepflow orchestrator binaries (`stepflow-server`) from the
// `stepflow-orchestrator` wheels on PyPI into a git-ignored cache:
//   .cache/stepflow/<version>/stepflow-server   (+ VERSION: the wheel's METADATA `Version:`)
// Idempotent: a cached binary whose VERSION matches is returned at once.
//
//   node scripts/provision-stepflow.mjs [0.13.0 0.11.1]   → prints one path per version on stdout
//   import { provisionStepflow } from './scripts/provision-stepflow.mjs'  → path
//
// Needs python3 with pip (wheel download only; nothing is installed into Python).
// Progress goes to stderr.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_VERSIONS = ['0.13.0', '0.11.1'];
const PACKAGE = 'stepflow-orchestrator';
const BIN_IN_WHEEL = 'stepflow_orchestrator/bin/stepflow-server';
/** Fallbacks when a requested 0.9–0.11 wheel is missing (newest first). */
const LEGACY_FALLBACKS = ['0.11.1', '0.11.0', '0.10.0', '0.9.0'];

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const cacheRoot = join(repoRoot, '.cache', 'stepflow');

const log = (message) => process.stderr.write(`provision-stepflow: ${message}\n`);

export class ProvisionError extends Error {}

function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: 'utf8', ...options });
}

/** Fail with the exact packages to install when python3 or pip is missing. */
function checkPython() {
  const py = run('python3', ['--version']);
  if (py.error || py.status !== 0)
    throw new ProvisionError(
      'python3 is required to download the stepflow-orchestrator wheel. Install it, e.g.\n' +
        '  apt-get install -y python3 python3-pip      (Debian/Ubuntu)\n' +
        '  brew install python                          (macOS)',
    );
  const pip = run('python3', ['-m', 'pip', '--version']);
  if (pip.error || pip.status !== 0)
    throw new ProvisionError(
      'pip for python3 is required to download the stepflow-orchestrator wheel. Install it, e.g.\n' +
        '  apt-get install -y python3-pip      (Debian/Ubuntu)\n' +
        '  python3 -m ensurepip --upgrade      (any python3 without pip)',
    );
}

function cachedVersion(dir) {
  const file = join(dir, 'VERSION');
  if (!existsSync(file) || !existsSync(join(dir, 'stepflow-server'))) return undefined;
  return readFileSync(file, 'utf8').trim();
}

/** Download one wheel (no deps, binary only); returns its path or undefined when pip finds none. */
function downloadWheel(version, into) {
  log(`downloading ${PACKAGE}==${version} from PyPI`);
  const res = run(
    'python3',
    [
      '-m',
      'pip',
      'download',
      '--no-deps',
      '--disable-pip-version-check',
      '--only-binary=:all:',
      `${PACKAGE}==${version}`,
      '-d',
      into,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (res.status !== 0) {
    log(
      `pip download ${PACKAGE}==${version} failed: ${(res.stderr || '').trim().split('\n').pop()}`,
    );
    return undefined;
  }
  return readdirSync(into)
    .filter((f) => f.endsWith('.whl'))
    .map((f) => join(into, f))[0];
}

function extractWheel(wheel, into) {
  const res = run('python3', ['-m', 'zipfile', '-e', wheel, into], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (res.status !== 0) throw new ProvisionError(`cannot unzip ${wheel}: ${res.stderr}`);
  const distInfo = readdirSync(into).find((f) => f.endsWith('.dist-info'));
  if (!distInfo) throw new ProvisionError(`${wheel}: no *.dist-info folder`);
  const metadata = readFileSync(join(into, distInfo, 'METADATA'), 'utf8');
  const version = /^Version:\s*(\S+)\s*$/m.exec(metadata)?.[1];
  if (!version) throw new ProvisionError(`${wheel}: no Version: line in METADATA`);
  const binary = join(into, BIN_IN_WHEEL);
  if (!existsSync(binary)) throw new ProvisionError(`${wheel}: no ${BIN_IN_WHEEL}`);
  return { version, binary };
}

function install(requested, dir) {
  checkPython();
  const work = mkdtempSync(join(tmpdir(), 'stepflow-wheel-'));
  try {
    const candidates = [requested];
    if (/^0\.(9|10|11)\./.test(requested))
      candidates.push(...LEGACY_FALLBACKS.filter((v) => v !== requested));
    for (const version of candidates) {
      const downloads = join(work, `dl-${version}`);
      mkdirSync(downloads);
      const wheel = downloadWheel(version, downloads);
      if (!wheel) continue;
      if (version !== requested)
        log(`${PACKAGE}==${requested} has no wheel here; using ${version} instead`);
      const extracted = join(work, `x-${version}`);
      const found = extractWheel(wheel, extracted);
      mkdirSync(dir, { recursive: true });
      const staged = join(dir, `stepflow-server.${process.pid}.tmp`);
      copyFileSync(found.binary, staged);
      chmodSync(staged, 0o755);
      renameSync(staged, join(dir, 'stepflow-server'));
      writeFileSync(join(dir, 'VERSION'), `${found.version}\n`);
      writeFileSync(join(dir, 'REQUESTED'), `${requested}\n`);
      log(`installed stepflow-server ${found.version} at ${join(dir, 'stepflow-server')}`);
      return found.version;
    }
    throw new ProvisionError(
      `no ${PACKAGE} wheel found for ${candidates.join(', ')} (pip download failed; see above)`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Path of a cached `stepflow-server` for `version` (e.g. "0.13.0"), downloading it when the cache
 * is missing or holds another version. For 0.9–0.11 requests a missing wheel falls back to the
 * newest available 0.9–0.11 release; `provisionedVersion()` tells which one was installed.
 */
export function provisionStepflow(version) {
  const dir = join(cacheRoot, version);
  const have = cachedVersion(dir);
  const requestedFile = join(dir, 'REQUESTED');
  const requested = existsSync(requestedFile) ? readFileSync(requestedFile, 'utf8').trim() : have;
  if (have && (have === version || requested === version)) return join(dir, 'stepflow-server');
  if (have) log(`cache for ${version} holds ${have}; re-provisioning`);
  install(version, dir);
  return join(dir, 'stepflow-server');
}

/** The version actually installed for a requested version (see the fallback rule). */
export function provisionedVersion(version) {
  return cachedVersion(join(cacheRoot, version));
}

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const versions = process.argv.slice(2);
  try {
    for (const version of versions.length ? versions : DEFAULT_VERSIONS)
      process.stdout.write(`${provisionStepflow(version)}\n`);
  } catch (err) {
    log(err instanceof ProvisionError ? err.message : String(err?.stack ?? err));
    process.exit(1);
  }
}
