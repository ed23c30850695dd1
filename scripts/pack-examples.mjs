#!/usr/bin/env node
/**
 * `prepack` of every pack: generates `packages/<pack>/examples/` (git-ignored) from the
 * git-tracked files of `workflows/<pack>/`, so the npm tarball ships the pack's integration
 * flows with configs that work where npm installs them (node_modules/@stepflow-packs/<pack>/).
 *
 * The one rewrite: a path into the pack's own repository folder, `../../packages/<pack>/…`
 * (the bin, the postgres embedded-server helper, image's package.json), becomes `../…`, i.e. the
 * installed package. Stepflow starts workers in the config file's folder (0.13
 * `workingDirectory`, v0.11/v0.8 likewise), so `args: ["../dist/bin.js"]` in examples/ is the
 * package's bin. Any other `../../<folder>/` left in a copied text file is an error: it would
 * point outside the package once installed (a bare `../../`, image's jail-escape case, is data). Comments naming `workflows/<pack>/` are pointed at the
 * installed folder.
 *
 * Usage (cwd = the pack's folder): node ../../scripts/pack-examples.mjs
 * API: generateExamples(packageDir) → list of written files (relative to examples/).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TEXT = new Set(['.yaml', '.yml', '.mjs', '.js', '.json', '.md', '.csv', '.txt']);

/** The rewritten text of one workflows/<pack> file, or an error naming a path that escapes. */
export function rewriteForPackage(pack, file, text) {
  const out = text
    .replaceAll(`../../packages/${pack}/`, '../')
    .replaceAll(`workflows/${pack}/`, `node_modules/@stepflow-packs/${pack}/examples/`);
  const line = out.split('\n').findIndex((l) => /\.\.\/\.\.\/[\w@.-]+\//.test(l));
  if (line >= 0) {
    throw new Error(
      `workflows/${pack}/${file}:${line + 1} refers outside the pack (../../) and would break ` +
        `once installed: ${out.split('\n')[line].trim()}`,
    );
  }
  return out;
}

export function generateExamples(packageDir) {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const pack = /^@stepflow-packs\/([a-z0-9-]+)$/.exec(manifest.name)?.[1];
  if (!pack) throw new Error(`${manifest.name} is not a @stepflow-packs package`);
  const source = join(repoRoot, 'workflows', pack);
  const target = join(packageDir, 'examples');
  const tracked = execFileSync('git', ['ls-files', '-z', '--', '.'], {
    cwd: source,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f !== '' && !f.endsWith('.gitignore'));
  if (!tracked.some((f) => /^stepflow-config\.ya?ml$/.test(f))) {
    throw new Error(`workflows/${pack} has no tracked stepflow-config.yml`);
  }
  rmSync(target, { recursive: true, force: true });
  for (const file of tracked) {
    const to = join(target, file);
    mkdirSync(dirname(to), { recursive: true });
    if (TEXT.has(extname(file))) {
      writeFileSync(to, rewriteForPackage(pack, file, readFileSync(join(source, file), 'utf8')));
    } else {
      copyFileSync(join(source, file), to);
    }
  }
  writeFileSync(
    join(target, 'README.md'),
    `# Examples of @stepflow-packs/${pack}\n\n` +
      `Generated at pack time from \`workflows/${pack}/\` of the stepflow-packs repository; the ` +
      `configs start this package's \`../dist/bin.js\`. Run every test case with the local runner ` +
      `(from the folder holding \`node_modules\`):\n\n` +
      '```sh\n' +
      `npm install @stepflow-packs/runner\n` +
      `npx stepflow-packs test node_modules/@stepflow-packs/${pack}/examples\n` +
      '```\n\n' +
      '`stepflow-config.yml` serves Stepflow v0.11 and v0.8, `stepflow-config.v0.13.yml` ' +
      'Stepflow 0.13 (give `stepflow-server --config` its absolute path).\n',
  );
  return [...tracked, 'README.md'].sort();
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const written = generateExamples(process.cwd());
  process.stderr.write(
    `pack-examples: ${written.length} files in ${relative(repoRoot, join(process.cwd(), 'examples'))}/\n`,
  );
}
