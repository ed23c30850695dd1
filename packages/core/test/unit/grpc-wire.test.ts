import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { describe, expect, it } from 'vitest';
import {
  CompleteTaskRequestSchema,
  CompleteTaskResponseSchema,
  TaskHeartbeatRequestSchema,
  TaskHeartbeatResponseSchema,
} from '../../src/transport/grpc/gen/stepflow/v1/orchestrator_pb.js';
import { TaskAssignmentSchema } from '../../src/transport/grpc/gen/stepflow/v1/tasks_pb.js';
import {
  toStructJson,
  toValue,
  UnrepresentableValueError,
} from '../../src/transport/grpc/values.js';
import {
  decodeCompleteTaskResponse,
  decodeTaskAssignment,
  decodeTaskHeartbeatResponse,
  encodeCompleteTask,
  encodePullTasks,
  encodeTaskHeartbeat,
  pulledTaskOf,
  type HeartbeatFields,
} from '../../src/transport/grpc/wire.js';
import { PullTasksRequestSchema } from '../../src/transport/grpc/gen/stepflow/v1/tasks_pb.js';

/** The message inside a gRPC frame (checking the 5-byte prefix). */
function body(frame: Buffer): Uint8Array {
  expect(frame[0]).toBe(0);
  expect(frame.readUInt32BE(1)).toBe(frame.length - 5);
  return new Uint8Array(frame.subarray(5));
}

/** Every kind of unknown field, as another implementation (or a newer proto) might add. */
function unknownFields(): Uint8Array {
  const w = new BinaryWriter();
  w.tag(90, WireType.Varint).uint64(2n ** 63n + 5n); // 10-byte varint
  w.tag(91, WireType.Varint).int32(-1); // negative int32: 10 bytes
  w.tag(92, WireType.Bit64).double(1.5);
  w.tag(93, WireType.Bit32).float(2.5);
  w.tag(94, WireType.LengthDelimited).string('unknown ✓');
  // a packed repeated uint32 and the same unpacked
  w.tag(95, WireType.LengthDelimited).fork();
  for (const n of [1, 300, 2 ** 32 - 1]) w.uint32(n);
  w.join();
  for (const n of [1, 300, 2 ** 32 - 1]) w.tag(96, WireType.Varint).uint32(n);
  // a group with a nested group inside
  w.tag(97, WireType.StartGroup);
  w.tag(1, WireType.Varint).uint32(7);
  w.tag(2, WireType.StartGroup)
    .tag(1, WireType.LengthDelimited)
    .string('x')
    .tag(2, WireType.EndGroup);
  w.tag(97, WireType.EndGroup);
  // a large unknown blob (multi-byte length)
  w.tag(98, WireType.LengthDelimited).bytes(new Uint8Array(70_000).fill(7));
  return w.finish();
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

const tricky = {
  a: 1,
  b: -0,
  c: 1.5e308,
  d: -1e-300,
  e: Number.MAX_SAFE_INTEGER,
  f: 2 ** 64, // plainly floating point: passes
  s: 'héllo ✓ 😀',
  lone: 'a\ud800b',
  bom: '\ufeffx',
  long: 'x'.repeat(200),
  longer: 'é'.repeat(70_000),
  empty: '',
  t: true,
  no: false,
  nil: null,
  skipped: undefined,
  fn: () => 1,
  list: [1, 'two', null, undefined, [3, [4]], { five: 5 }],
  nested: { deeper: { deepest: { x: [] as unknown[], y: {} } } },
  date: new Date(Date.UTC(2026, 11, 3)),
  10: 'integer-like keys come first',
  2: 'and in ascending order',
  '': 'empty key',
};

const outputs: [string, unknown][] = [
  ['a number', 3],
  ['zero', 0],
  ['negative zero', -0],
  ['a string', 'text'],
  ['an empty string', ''],
  ['true', true],
  ['false', false],
  ['null', null],
  ['an empty object', {}],
  ['an empty array', []],
  ['a mixed object', tricky],
  ['a __proto__ own key', JSON.parse('{"__proto__": {"x": 1}, "y": 2}')],
  ['a Buffer (toJSON)', Buffer.from([1, 2, 3])],
  ['10,000 records', Array.from({ length: 10_000 }, (_, i) => ({ id: i, name: `n${i}` }))],
  ['a 1 MiB string', 'y'.repeat(1 << 20)],
  [
    '40 levels of nesting',
    Array.from({ length: 40 }).reduce<unknown>(
      (inner, _, i) => (i % 2 ? { inner, n: i } : [i, inner]),
      'core',
    ),
  ],
];

describe('hand-written protobuf (wire.ts) against protobuf-es', () => {
  describe('TaskHeartbeatRequest', () => {
    const cases: [string, HeartbeatFields][] = [
      ['the claim', { taskId: 't-1', workerId: 'w-1' }],
      ['with a run id', { taskId: 't-1', workerId: 'w-1', runId: 'run-1' }],
      ['an empty run id', { taskId: 't-1', workerId: 'w-1', runId: '' }],
      [
        'progress and status',
        { taskId: 't', workerId: 'w', progress: 0.25, statusMessage: 'working ✓', runId: 'r' },
      ],
      [
        'progress zero and an empty status',
        { taskId: 't', workerId: 'w', progress: 0, statusMessage: '' },
      ],
      ['progress -0 and NaN-free extremes', { taskId: 't', workerId: 'w', progress: -0 }],
      [
        'progress at the float32 limit',
        { taskId: 't', workerId: 'w', progress: 3.4028234663852886e38 },
      ],
      ['progress infinity', { taskId: 't', workerId: 'w', progress: Infinity }],
      ['empty ids', { taskId: '', workerId: '' }],
      ['long ids', { taskId: 'i'.repeat(300), workerId: 'ü'.repeat(100_000) }],
    ];
    for (const [name, fields] of cases) {
      it(`encodes ${name} byte for byte`, () => {
        const init: MessageInitShape<typeof TaskHeartbeatRequestSchema> = {
          taskId: fields.taskId,
          workerId: fields.workerId,
        };
        if (fields.runId !== undefined) init.runId = fields.runId;
        if (fields.progress !== undefined) init.progress = fields.progress;
        if (fields.statusMessage !== undefined) init.statusMessage = fields.statusMessage;
        const expected = toBinary(
          TaskHeartbeatRequestSchema,
          create(TaskHeartbeatRequestSchema, init),
        );
        expect(body(encodeTaskHeartbeat(fields))).toEqual(expected);
      });
    }

    it('refuses a progress outside float32, as protobuf-es does', () => {
      expect(() => encodeTaskHeartbeat({ taskId: 't', workerId: 'w', progress: 1e39 })).toThrow(
        /invalid float32/,
      );
      expect(() =>
        toBinary(
          TaskHeartbeatRequestSchema,
          create(TaskHeartbeatRequestSchema, { taskId: 't', progress: 1e39 }),
        ),
      ).toThrow(/invalid float32/);
    });
  });

  describe('TaskHeartbeatResponse', () => {
    const replies: [string, Uint8Array][] = [
      ['empty', new Uint8Array()],
      ...[
        { shouldAbort: true },
        { status: 1 },
        { status: 2, shouldAbort: true },
        { status: 7 }, // an enum value this proto does not know
        { status: -3 },
      ].map(
        (init) =>
          [
            JSON.stringify(init),
            toBinary(TaskHeartbeatResponseSchema, create(TaskHeartbeatResponseSchema, init)),
          ] as [string, Uint8Array],
      ),
    ];
    const w = new BinaryWriter();
    w.tag(1, WireType.Varint).uint64(2n ** 40n); // a wide "true"
    w.tag(2, WireType.Varint).uint32(2);
    w.tag(2, WireType.Varint).uint32(1); // the last one wins
    replies.push(['a wide bool and a repeated enum', w.finish()]);
    for (const [name, bytes] of [...replies]) {
      replies.push([
        `${name} with unknown fields`,
        concat(unknownFields(), bytes, unknownFields()),
      ]);
    }
    for (const [name, bytes] of replies) {
      it(`decodes ${name}`, () => {
        const expected = fromBinary(TaskHeartbeatResponseSchema, bytes);
        expect(decodeTaskHeartbeatResponse(bytes)).toEqual({
          shouldAbort: expected.shouldAbort,
          status: expected.status,
        });
      });
    }

    it('refuses truncated input', () => {
      const bytes = toBinary(
        TaskHeartbeatResponseSchema,
        create(TaskHeartbeatResponseSchema, { status: 2 }),
      );
      expect(() =>
        decodeTaskHeartbeatResponse(concat(bytes, new Uint8Array([0x12, 5, 1]))),
      ).toThrow();
    });
  });

  describe('CompleteTaskRequest', () => {
    for (const [name, output] of outputs) {
      for (const runId of [undefined, 'run-7']) {
        it(`encodes a response with ${name}${runId ? ' and a run id' : ''} byte for byte`, () => {
          const expected = toBinary(
            CompleteTaskRequestSchema,
            create(CompleteTaskRequestSchema, {
              taskId: 'task-1',
              result: { case: 'response', value: { output: toValue(output) } },
              ...(runId !== undefined ? { runId } : {}),
            }),
          );
          expect(
            Buffer.from(body(encodeCompleteTask('task-1', { case: 'response', output }, runId))),
          ).toEqual(Buffer.from(expected));
        });
      }
    }

    const errors: [string, { code: number; message: string; data?: unknown }][] = [
      ['an error without data', { code: 3, message: 'it failed' }],
      ['code 0 and an empty message', { code: 0, message: '' }],
      ['Struct data', { code: 2, message: 'bad ✓', data: { field: 'a', n: [1, { m: null }] } }],
      ['data that is not an object', { code: 7, message: 'm', data: [1, 2] }],
    ];
    for (const [name, error] of errors) {
      it(`encodes an error with ${name} byte for byte`, () => {
        const data = error.data === undefined ? undefined : toStructJson(error.data);
        const expected = toBinary(
          CompleteTaskRequestSchema,
          create(CompleteTaskRequestSchema, {
            taskId: 'task-2',
            result: {
              case: 'error',
              value: { code: error.code, message: error.message, ...(data ? { data } : {}) },
            },
            runId: 'r',
          }),
        );
        expect(
          body(
            encodeCompleteTask(
              'task-2',
              { case: 'error', code: error.code, message: error.message, data },
              'r',
            ),
          ),
        ).toEqual(expected);
      });
    }

    const refused: [string, unknown][] = [
      ['NaN', { a: [1, { b: NaN }] }],
      ['Infinity', -Infinity],
      ['an unsafe integer', { big: 2 ** 60 }],
      ['a BigInt', [1n]],
      ['undefined at the top', undefined],
      ['a function in a list', [() => 1]],
      ['a symbol in a list', { s: [Symbol('x')] }],
    ];
    const cycle: Record<string, unknown> = { a: { list: [1] } };
    (cycle.a as { list: unknown[] }).list.push(cycle);
    refused.push(['a cycle', cycle]);
    const selfJson = {
      toJSON() {
        return selfJson;
      },
    };
    refused.push(['a toJSON returning itself', { x: selfJson }]);
    for (const [name, output] of refused) {
      it(`refuses ${name} with toValue's error and path`, () => {
        let expected: unknown;
        try {
          toValue(output);
        } catch (err) {
          expected = err;
        }
        expect(expected).toBeInstanceOf(UnrepresentableValueError);
        let actual: unknown;
        try {
          encodeCompleteTask('t', { case: 'response', output }, undefined);
        } catch (err) {
          actual = err;
        }
        expect(actual).toBeInstanceOf(UnrepresentableValueError);
        expect((actual as UnrepresentableValueError).path).toBe(
          (expected as UnrepresentableValueError).path,
        );
        expect((actual as Error).message).toBe((expected as Error).message);
      });
    }

    it('encodes the same bytes again after a refused output (no state left behind)', () => {
      expect(() =>
        encodeCompleteTask('t', { case: 'response', output: { x: NaN } }, undefined),
      ).toThrow();
      const expected = toBinary(
        CompleteTaskRequestSchema,
        create(CompleteTaskRequestSchema, {
          taskId: 't',
          result: { case: 'response', value: { output: toValue({ y: [1, 2] }) } },
        }),
      );
      expect(
        body(encodeCompleteTask('t', { case: 'response', output: { y: [1, 2] } }, undefined)),
      ).toEqual(expected);
    });
  });

  it('decodes CompleteTaskResponse (no fields; unknown ones skipped, garbage refused)', () => {
    expect(() => decodeCompleteTaskResponse(new Uint8Array())).not.toThrow();
    const bytes = concat(
      toBinary(CompleteTaskResponseSchema, create(CompleteTaskResponseSchema)),
      unknownFields(),
    );
    expect(() => fromBinary(CompleteTaskResponseSchema, bytes)).not.toThrow();
    expect(() => decodeCompleteTaskResponse(bytes)).not.toThrow();
    expect(() => decodeCompleteTaskResponse(new Uint8Array([0x0a, 10, 1]))).toThrow();
  });

  it('encodes PullTasksRequest byte for byte', () => {
    for (const [queueName, workerId] of [
      ['math', 'w-1'],
      ['', ''],
      ['q'.repeat(500), 'ü'],
    ] as const) {
      expect(body(encodePullTasks(queueName, workerId))).toEqual(
        toBinary(PullTasksRequestSchema, create(PullTasksRequestSchema, { queueName, workerId })),
      );
    }
  });

  describe('TaskAssignment', () => {
    const execute = (
      input: unknown,
      extra: { taskId?: string; heartbeatIntervalSecs?: number } = {},
    ): Uint8Array =>
      toBinary(
        TaskAssignmentSchema,
        create(TaskAssignmentSchema, {
          taskId: 'task-9',
          task: {
            case: 'execute',
            value: {
              componentId: '/add',
              ...(input === undefined ? {} : { input: toValue(input, 'input') }),
              attempt: 2,
              observability: { traceId: 'tr', runId: 'run-9', stepId: 'step', flowId: '' },
              pathParams: { a: '1', __proto__x: '2', '': 'empty' },
            },
          },
          context: { orchestratorServiceUrl: 'http://127.0.0.1:1', rootRunId: 'root' },
          heartbeatIntervalSecs: 5,
          ...extra,
        }),
      );
    const messages: [string, Uint8Array][] = [
      ['an empty message', new Uint8Array()],
      [
        'discovery',
        toBinary(
          TaskAssignmentSchema,
          create(TaskAssignmentSchema, {
            taskId: 'd',
            task: { case: 'listComponents', value: {} },
          }),
        ),
      ],
      ['an execute task without input', execute(undefined)],
      [
        'an execute task with bare fields',
        toBinary(
          TaskAssignmentSchema,
          create(TaskAssignmentSchema, { task: { case: 'execute', value: {} } }),
        ),
      ],
      ['the largest uint32s', execute(1, { heartbeatIntervalSecs: 2 ** 32 - 1 })],
      ...outputs
        .filter(([name]) => name !== 'a Buffer (toJSON)')
        .map(
          ([name, input]) =>
            [`an execute task with ${name}`, execute(input)] as [string, Uint8Array],
        ),
    ];
    // a __proto__ key in path_params, built by hand (an init object cannot hold one)
    {
      const w = new BinaryWriter();
      w.tag(1, WireType.LengthDelimited).string('p');
      w.tag(2, WireType.LengthDelimited).fork();
      w.tag(5, WireType.LengthDelimited).fork();
      w.tag(1, WireType.LengthDelimited).string('__proto__');
      w.tag(2, WireType.LengthDelimited).string('v');
      w.join();
      w.join();
      messages.push(['a __proto__ path parameter', w.finish()]);
    }
    // concatenated messages merge: the last scalar wins, message fields merge, lists append
    messages.push([
      'two concatenated execute tasks (merged)',
      concat(
        execute({ a: 1, list: [1], keep: 'x', replaced: { deep: 1 } }),
        execute({ b: 2, list: [2], replaced: 'now a string' }, { taskId: 'second' }),
      ),
    ]);
    messages.push([
      'an execute task, then discovery (the oneof switches)',
      concat(
        execute({ a: 1 }),
        toBinary(
          TaskAssignmentSchema,
          create(TaskAssignmentSchema, {
            task: { case: 'listComponents', value: {} },
          }),
        ),
      ),
    ]);
    messages.push([
      'discovery, then an execute task',
      concat(
        toBinary(
          TaskAssignmentSchema,
          create(TaskAssignmentSchema, {
            task: { case: 'listComponents', value: {} },
          }),
        ),
        execute({ a: 1 }),
      ),
    ]);
    for (const [name, bytes] of [...messages]) {
      messages.push([
        `${name}, with unknown fields around it`,
        concat(unknownFields(), bytes, unknownFields()),
      ]);
    }
    for (const [name, bytes] of messages) {
      it(`decodes ${name} as protobuf-es does`, () => {
        const expected = pulledTaskOf(fromBinary(TaskAssignmentSchema, bytes));
        const actual = decodeTaskAssignment(bytes);
        expect(actual).toStrictEqual(expected);
        // key order and own __proto__ keys are part of the result
        expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
      });
    }

    it('decodes unknown fields inside Value, Struct and ListValue', () => {
      // input = Struct{ "k": ListValue[ Value{number 1, unknown}, Value{unknown only} ] }
      const value = (inner: (w: BinaryWriter) => void) => {
        const w = new BinaryWriter();
        inner(w);
        return w.finish();
      };
      const element1 = value((w) => {
        w.tag(2, WireType.Bit64).double(1);
        w.raw(unknownFields());
      });
      const element2 = value((w) => w.raw(unknownFields()));
      const list = value((w) => {
        w.tag(1, WireType.LengthDelimited).bytes(element1);
        w.raw(unknownFields());
        w.tag(1, WireType.LengthDelimited).bytes(element2);
      });
      const listValue = value((w) => w.tag(6, WireType.LengthDelimited).bytes(list));
      const entry = value((w) => {
        w.raw(unknownFields());
        w.tag(1, WireType.LengthDelimited).string('k');
        w.tag(2, WireType.LengthDelimited).bytes(listValue);
      });
      const struct = value((w) => {
        w.tag(1, WireType.LengthDelimited).bytes(entry);
        w.raw(unknownFields());
      });
      const input = value((w) => w.tag(5, WireType.LengthDelimited).bytes(struct));
      const request = value((w) => {
        w.tag(1, WireType.LengthDelimited).string('/add');
        w.tag(2, WireType.LengthDelimited).bytes(input);
      });
      const bytes = value((w) => {
        w.tag(1, WireType.LengthDelimited).string('t');
        w.tag(2, WireType.LengthDelimited).bytes(request);
      });
      const actual = decodeTaskAssignment(bytes);
      expect(actual).toStrictEqual(pulledTaskOf(fromBinary(TaskAssignmentSchema, bytes)));
      expect(actual.execute?.input).toEqual({ k: [1, null] });
    });

    it('refuses truncated messages and invalid UTF-8 like protobuf-es', () => {
      const bytes = execute({ a: 'text' });
      for (const cut of [1, 5, bytes.length - 1]) {
        expect(() => decodeTaskAssignment(bytes.subarray(0, cut))).toThrow();
      }
      const w = new BinaryWriter();
      w.tag(1, WireType.LengthDelimited).bytes(new Uint8Array([0x61, 0xff, 0x62]));
      const invalid = w.finish();
      expect(() => fromBinary(TaskAssignmentSchema, invalid)).toThrow();
      expect(() => decodeTaskAssignment(invalid)).toThrow();
    });

    it('refuses input nested beyond the recursion limit instead of overflowing the stack', () => {
      let deep: unknown = 1;
      for (let i = 0; i < 200; i++) deep = [deep];
      // protobuf-es cannot write it either through toValue's messages; build the bytes by hand
      let value = toBinary(TaskAssignmentSchema, create(TaskAssignmentSchema)); // empty
      value = new Uint8Array([0x11, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]); // number_value 1
      for (let i = 0; i < 200; i++) {
        const list = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(value).finish();
        value = new BinaryWriter().tag(6, WireType.LengthDelimited).bytes(list).finish();
      }
      const request = new BinaryWriter().tag(2, WireType.LengthDelimited).bytes(value).finish();
      const bytes = new BinaryWriter().tag(2, WireType.LengthDelimited).bytes(request).finish();
      expect(() => fromBinary(TaskAssignmentSchema, bytes)).toThrow(/recursion/);
      expect(() => decodeTaskAssignment(bytes)).toThrow(/recursion/);
      void deep;
    });
  });
});
