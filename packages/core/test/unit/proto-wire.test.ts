import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const core = resolve(here, '../..');
const buf = join(core, 'node_modules/.bin/buf');
const scratch = mkdtempSync(join(tmpdir(), 'proto-wire-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Descriptor {
  file: {
    name: string;
    messageType?: { name: string; field?: Record<string, unknown>[] }[];
    enumType?: { name: string; value: { name: string; number?: number }[] }[];
    service?: { name: string; method: Record<string, unknown>[] }[];
  }[];
}

/** Compile a proto tree with buf and index its stepflow.v1 definitions by kind and name. */
function definitions(root: string): Map<string, unknown> {
  const out = join(scratch, `${Math.random().toString(36).slice(2)}.json`);
  execFileSync(buf, ['build', root, '-o', out], { stdio: ['ignore', 'ignore', 'inherit'] });
  const image = JSON.parse(readFileSync(out, 'utf8')) as Descriptor;
  const defs = new Map<string, unknown>();
  for (const file of image.file.filter((f) => f.name.startsWith('stepflow/'))) {
    for (const m of file.messageType ?? []) {
      const fields = (m.field ?? []).map((f) =>
        [f.name, f.number, f.type, f.typeName, f.label, f.oneofIndex, f.proto3Optional].join(':'),
      );
      defs.set(`message ${m.name}`, fields.sort());
    }
    for (const e of file.enumType ?? []) {
      defs.set(`enum ${e.name}`, e.value.map((v) => `${v.name}=${v.number ?? 0}`).sort());
    }
    for (const s of file.service ?? []) {
      for (const method of s.method) {
        const { name, inputType, outputType, serverStreaming } = method;
        defs.set(`rpc ${s.name}.${String(name)}`, [
          inputType,
          outputType,
          Boolean(serverStreaming),
        ]);
      }
    }
  }
  return defs;
}

describe("the project's protos", () => {
  it("match upstream's stepflow-0.13.0 protos on the wire (names, numbers, types) for every definition they hold", () => {
    const upstreamRoot = join(scratch, 'upstream');
    execFileSync('cp', ['-r', join(here, '../fixtures/upstream-proto'), upstreamRoot]);
    writeFileSync(join(upstreamRoot, 'buf.yaml'), 'version: v2\n');
    const upstream = definitions(upstreamRoot);
    const ours = definitions(join(core, 'proto'));
    expect(ours.size).toBeGreaterThan(25);
    for (const [name, shape] of ours) {
      expect.soft(upstream.get(name), name).toEqual(shape);
    }
  });
});
