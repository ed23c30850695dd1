/**
 * The "Try it" section of a pack README, as its install test runs it: the first ```sh block
 * under the heading `## Try it`. Its first line must be `npm install <specs…>` (the test installs
 * the workspace packages among them from their tarballs, anything else from the registry); every
 * following line is one command, run with `sh -c` in the folder holding node_modules.
 * Keeping the commands in the README only means the README cannot drift from what is tested.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function readTryIt(readmePath) {
  const text = readFileSync(readmePath, 'utf8');
  const section = /^## Try it\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(text)?.[1];
  if (section === undefined) throw new Error(`${readmePath}: no "## Try it" section`);
  const block = /^```sh\n([\s\S]*?)^```/m.exec(section)?.[1];
  if (block === undefined) throw new Error(`${readmePath}: "## Try it" has no sh block`);
  const lines = block
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const [first, ...commands] = lines;
  const install = /^npm install ((?:[^\s#]+ ?)+)(?:\s*#.*)?$/.exec(first ?? '');
  if (!install) throw new Error(`${readmePath}: the Try-it block must start with npm install`);
  return { install: install[1].trim().split(/\s+/), commands };
}

/**
 * The install specs split into workspace packages (`@stepflow-packs/<name>` without a version:
 * the test installs them from their tarballs, so it gets `<name>` folders) and the rest.
 */
export function splitInstall(specs) {
  const workspace = [];
  const registry = [];
  for (const spec of specs) {
    const name = /^@stepflow-packs\/([a-z0-9-]+)$/.exec(spec)?.[1];
    if (name) workspace.push(name);
    else registry.push(spec);
  }
  return { workspace, registry };
}

/** Run the commands one by one; rejects with the command and its output when one fails. */
export async function runTryIt(dir, commands, options = {}) {
  const env = {
    ...process.env,
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    ...options.env,
  };
  const results = [];
  for (const command of commands) {
    const result = await new Promise((resolve) => {
      execFile(
        'sh',
        ['-c', command],
        { cwd: dir, env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 << 20 },
        (error, stdout, stderr) => resolve({ command, error, stdout, stderr }),
      );
    });
    if (result.error) {
      throw new Error(
        `Try-it command failed: ${command}\n${result.error.message}\n${result.stdout}\n${result.stderr}`,
      );
    }
    results.push({ command, stdout: result.stdout, stderr: result.stderr });
  }
  return results;
}

/**
 * What the Try-it commands showed: the component ids a `--list-components` printed and the
 * runner's `N passed, M failed` summary of a `stepflow-packs test`.
 */
export function summarize(results) {
  const summary = {};
  for (const { command, stdout } of results) {
    if (command.includes('--list-components')) {
      summary.components = JSON.parse(stdout).components.map((c) => ({
        component_id: c.component_id,
        path: c.path,
      }));
    }
    const tested = /^(\d+) passed, (\d+) failed/m.exec(stdout);
    if (command.includes('stepflow-packs test') && tested) {
      summary.passed = Number(tested[1]);
      summary.failed = Number(tested[2]);
    }
  }
  return summary;
}

/** The files of an installed pack's examples/ (relative) and the texts that leave the package. */
export function shippedExamples(appDir, pack) {
  const root = join(appDir, 'node_modules', '@stepflow-packs', pack, 'examples');
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(root.length + 1))
    .sort();
  const escaping = files.filter(
    (f) =>
      /\.(ya?ml|mjs|js)$/.test(f) &&
      /\.\.\/\.\.\/[\w@.-]+\//.test(readFileSync(join(root, f), 'utf8')),
  );
  return { root, files, escaping };
}
