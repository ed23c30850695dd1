import { readFileSync } from 'node:fs';
import { basename, relative } from 'node:path';
import {
  collectFiles,
  inferVersion,
  parseTestSection,
  parseYaml,
  type JsonObject,
  type TestSection,
} from '@stepflow-packs/runner';

/** One flow file of a workflows/<pack> folder, as the harness sees it. */
export interface FlowFile {
  /** Absolute path. */
  file: string;
  /** Path relative to the workflows folder, e.g. `math/power-errors.yaml`. */
  name: string;
  /** The flow document without its `test` section (what is stored on the server). */
  flow: JsonObject;
  test: TestSection;
  /** Set when no generation of the real server can run the file (reported, never silent). */
  skipReason?: string;
}

const FLOW_KEYS = ['steps', 'output', 'schema'];

/**
 * Flow files with test cases under `folder` (recursive, the runner's file rules). Files in the
 * v0.8 syntax are returned with a `skipReason`: 0.11.1 and 0.13 only read `$step`/`$input`.
 */
export function loadFolder(folder: string, workflowsRoot: string): FlowFile[] {
  const out: FlowFile[] = [];
  for (const file of collectFiles([folder], folder)) {
    const name = relative(workflowsRoot, file);
    const doc = parseYaml(readFileSync(file, 'utf8'), name);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) continue;
    if (!FLOW_KEYS.some((k) => k in doc)) continue;
    const test = parseTestSection(doc.test ?? null, name, (w) => process.stderr.write(`${w}\n`));
    if (!test || test.cases.length === 0) continue;
    // Same nested objects: the runner's float markers survive for canonicalJson.
    const { test: _test, ...flow } = doc;
    const entry: FlowFile = { file, name, flow, test };
    if (inferVersion(doc) === 'v0.8')
      entry.skipReason = `v0.8 syntax ($from): ${basename(file)} cannot run on stepflow-server 0.11.1 or 0.13`;
    out.push(entry);
  }
  return out;
}
