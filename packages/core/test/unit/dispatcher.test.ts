import { describe, expect, it } from 'vitest';
import {
  ComponentValueError,
  defineComponent,
  definePack,
  Dispatcher,
  z,
  type Session,
} from '../../src/index.js';
import { createTestKit } from '../../src/testing/index.js';

const calc = defineComponent({
  name: 'calc',
  description: 'Sum operands.',
  input: z.strictObject({
    operation: z.enum(['add', 'multiply']),
    operands: z.array(z.number()).min(1),
    records: z.array(z.strictObject({ name: z.string() })).optional(),
  }),
  output: z.object({ result: z.number() }),
  execute: ({ operands }) => ({ result: operands.reduce((a, b) => a + b, 0) }),
});
const misbehave = defineComponent({
  name: 'misbehave',
  description: 'Fails in chosen ways.',
  input: z.strictObject({ how: z.string() }),
  output: z.unknown(),
  execute({ how }) {
    if (how === 'string') throw 'oops';
    if (how === 'error') throw new Error('first line\nsecond line with stack');
    if (how === 'secret') throw new Error('connect failed for postgres://user:pa55@host/db');
    if (how === 'bigint') return { n: 1n };
    if (how === 'cycle') {
      const o: Record<string, unknown> = {};
      o.o = o;
      return o;
    }
    if (how === 'undefined') return undefined;
    if (how === 'value') throw new ComponentValueError('bad value', { field: 'how' });
    return null;
  },
});
const pack = definePack({ name: 'demo', version: '1.2.3', components: [calc, misbehave] });
const session: Session = { transport: 'memory', signal: new AbortController().signal };

async function respond(
  d: Dispatcher,
  method: string,
  params: unknown,
  id: string | number = 'r-1',
) {
  return JSON.parse(await d.respond({ jsonrpc: '2.0', id, method, params }, session)) as {
    id: unknown;
    result?: Record<string, unknown>;
    error?: { code: number; message: string; data?: Record<string, unknown> };
  };
}

function dispatcher() {
  return new Dispatcher(pack, { config: {}, defaultDialect: 'v0.8' });
}

describe('initialize', () => {
  it('detects v0.11 from runtimeProtocolVersion and answers both spellings with version 1', async () => {
    const d = dispatcher();
    const r = await respond(d, 'initialize', {
      runtimeProtocolVersion: 1,
      capabilities: { blobApiUrl: 'http://127.0.0.1:1/api/v1/blobs' },
    });
    expect(r.result).toEqual({
      server_protocol_version: 1,
      serverProtocolVersion: 1,
      supportsBlobRefs: false,
    });
    expect(d.dialect).toBe('v0.11');
    expect(d.blobApiUrl).toBe('http://127.0.0.1:1/api/v1/blobs');
  });

  it('detects v0.8 from runtime_protocol_version and accepts initialize any number of times', async () => {
    const d = new Dispatcher(pack, { config: {}, defaultDialect: 'v0.11' });
    await respond(d, 'initialize', { runtimeProtocolVersion: 1 });
    const again = await respond(d, 'initialize', { runtime_protocol_version: 1 });
    expect(again.result?.server_protocol_version).toBe(1);
    expect(d.dialect).toBe('v0.8');
    expect(d.blobApiUrl).toBeUndefined();
  });

  it('answers -32602 naming the field when neither version key is present', async () => {
    const r = await respond(dispatcher(), 'initialize', {});
    expect(r.error?.code).toBe(-32602);
    expect(r.error?.message).toMatch(/runtimeProtocolVersion/);
  });
});

describe('components/list and components/info', () => {
  it('lists every component with a leading slash and JSON schemas', async () => {
    const r = await respond(dispatcher(), 'components/list', {});
    const components = r.result!.components as {
      component: string;
      input_schema: { type: string };
    }[];
    expect(components.map((c) => c.component)).toEqual(['/calc', '/misbehave', '/health_check']);
    expect(components[0]!.input_schema.type).toBe('object');
  });

  it('echoes the requested name in info, with or without the leading slash', async () => {
    const d = dispatcher();
    expect(
      (await respond(d, 'components/info', { component: '/calc' })).result!.info,
    ).toMatchObject({ component: '/calc' });
    expect((await respond(d, 'components/info', { component: 'calc' })).result!.info).toMatchObject(
      { component: 'calc' },
    );
  });

  it('answers infer_schema with the static output schema', async () => {
    const r = await respond(dispatcher(), 'components/infer_schema', {
      component: '/calc',
      input_schema: {},
    });
    expect(r.result!.output_schema).toMatchObject({ type: 'object' });
  });
});

describe('components/execute', () => {
  it('serves requests without any prior initialize, with and without the leading slash', async () => {
    const d = dispatcher();
    for (const component of ['/calc', 'calc']) {
      const r = await respond(d, 'components/execute', {
        component,
        input: { operation: 'add', operands: [1, 2] },
        attempt: 1,
        observability: {},
      });
      expect(r.result).toEqual({ output: { result: 3 } });
    }
  });

  it('keeps the JSON type of the request id', async () => {
    const d = dispatcher();
    expect((await respond(d, 'components/list', {}, 7)).id).toBe(7);
    expect((await respond(d, 'components/list', {}, '7')).id).toBe('7');
  });

  it('answers -32001 naming the component when it is unknown', async () => {
    const r = await respond(dispatcher(), 'components/execute', { component: '/nope', input: {} });
    expect(r.error).toEqual({
      code: -32001,
      message: "Component '/nope' not found",
      data: { component: '/nope' },
    });
  });

  it('answers -32602 naming the field when component is missing', async () => {
    const r = await respond(dispatcher(), 'components/execute', { input: {} });
    expect(r.error?.code).toBe(-32602);
    expect(r.error?.message).toMatch(/params\.component/);
  });

  it('answers -32602 when params is not an object', async () => {
    expect((await respond(dispatcher(), 'components/execute', [1, 2])).error?.code).toBe(-32602);
  });

  it('answers -32602 when attempt is not a positive integer', async () => {
    const r = await respond(dispatcher(), 'components/execute', {
      component: '/calc',
      input: {},
      attempt: 0,
    });
    expect(r.error?.code).toBe(-32602);
  });

  it('answers -32601 for an unknown method', async () => {
    const r = await respond(dispatcher(), 'tools/call', {});
    expect(r.error).toEqual({ code: -32601, message: 'Method not found: tools/call' });
  });
});

describe('input validation', () => {
  const kit = createTestKit(pack);

  it('answers -32003 naming the first failing path when operands is empty', async () => {
    const r = await kit.call('calc', { operation: 'add', operands: [] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(-32003);
    expect(r.error.message).toMatch(/^input\.operands: /);
    expect((r.error.data as { issues: unknown[] }).issues).toEqual([
      { path: 'input.operands', message: expect.any(String) },
    ]);
  });

  it('names nested record paths', async () => {
    const r = await kit.call('calc', {
      operation: 'add',
      operands: [1],
      records: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 5 }],
    });
    expect(!r.ok && r.error.message).toMatch(
      /^input\.records\[3\]\.name: .*expected string, received number/,
    );
  });

  it('rejects unknown keys with -32003 naming the key', async () => {
    const r = await kit.call('calc', { operation: 'add', operands: [1], extra: true });
    expect(!r.ok && r.error).toMatchObject({
      code: -32003,
      message: 'input.extra: unknown key (not allowed by the schema)',
    });
  });

  it('rejects an unknown enum value with -32003', async () => {
    const r = await kit.call('calc', { operation: 'divide', operands: [1] });
    expect(!r.ok && r.error.code).toBe(-32003);
  });

  it('lists every issue in data.issues', async () => {
    const r = await kit.call('calc', { operation: 'nope', operands: 'x' });
    expect(!r.ok && (r.error.data as { issues: unknown[] }).issues).toHaveLength(2);
  });

  it('treats a missing input as null', async () => {
    const r = await kit.call('health_check', undefined);
    expect(r.ok && r.output).toMatchObject({ status: 'healthy', pack: 'demo', version: '1.2.3' });
  });
});

describe('error mapping', () => {
  const kit = createTestKit(pack);
  const fail = async (how: string) => {
    const r = await kit.call('misbehave', { how });
    if (r.ok) throw new Error('expected a failure');
    return r.error;
  };

  it('maps a thrown string to -32100 with a one-sentence message', async () => {
    const error = await fail('string');
    expect(error.code).toBe(-32100);
    expect(error.message).toBe(
      'Unexpected error in component "misbehave": it threw a non-Error value',
    );
  });

  it('maps an Error to -32100 keeping only its first line (no stack)', async () => {
    const error = await fail('error');
    expect(error).toEqual({
      code: -32100,
      message: 'Unexpected error in component "misbehave": first line',
      data: { error_type: 'Error' },
    });
  });

  it('removes URL credentials from unexpected error messages', async () => {
    const error = await fail('secret');
    expect(JSON.stringify(error)).not.toContain('pa55');
    expect(error.message).toContain('postgres://***@host/db');
  });

  it('keeps the code and data of typed errors', async () => {
    expect(await fail('value')).toEqual({
      code: -32101,
      message: 'bad value',
      data: { field: 'how' },
    });
  });

  it.each([
    ['bigint', /BigInt/],
    ['cycle', /circular/],
    ['undefined', /no output/],
  ])('answers -32101 instead of crashing when the output is %s', async (how, pattern) => {
    const error = await fail(how);
    expect(error.code).toBe(-32101);
    expect(error.message).toMatch(pattern);
  });
});
