import { describe, expect, it } from 'vitest';
import { ProtocolTap } from '../helpers/protocol-validator.js';

// The tap is the judge of every integration test; it must itself reject bad frames.
describe('ProtocolTap', () => {
  const problems = (dialect: 'v0.8' | 'v0.11', frames: ['sent' | 'received', string][]) => {
    const tap = new ProtocolTap(dialect);
    for (const [direction, frame] of frames) tap.tap(direction, frame);
    return tap.violations.map((v) => v.problem);
  };

  it('accepts a valid v0.8 exchange', () => {
    expect(
      problems('v0.8', [
        [
          'sent',
          '{"jsonrpc":"2.0","id":"1","method":"initialize","params":{"runtime_protocol_version":1}}',
        ],
        [
          'received',
          '{"jsonrpc":"2.0","id":"1","result":{"server_protocol_version":1,"serverProtocolVersion":1}}',
        ],
        [
          'sent',
          '{"jsonrpc":"2.0","id":2,"method":"components/execute","params":{"component":"/a","input":null,"attempt":1,"observability":{}}}',
        ],
        ['received', '{"jsonrpc":"2.0","id":2,"result":{"output":null}}'],
      ]),
    ).toEqual([]);
  });

  it.each([
    [
      'an id of null',
      '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"x"}}',
      /bad id/,
    ],
    [
      'a method outside the dialect',
      '{"jsonrpc":"2.0","method":"$/progress","params":{}}',
      /unknown method/,
    ],
    [
      'a non-integer error code',
      '{"jsonrpc":"2.0","id":"a","error":{"code":1.5,"message":"x"}}',
      /non-integer/,
    ],
    ['a missing jsonrpc member', '{"id":"a","result":{}}', /jsonrpc/],
    ['a line that is not JSON', 'hello', /not JSON/],
  ])('flags %s', (_what, frame, pattern) => {
    expect(problems('v0.8', [['received', frame]])[0]).toMatch(pattern);
  });

  it('flags a v0.11 initialize result without serverProtocolVersion', () => {
    const found = problems('v0.11', [
      [
        'sent',
        '{"jsonrpc":"2.0","id":"1","method":"initialize","params":{"runtimeProtocolVersion":1}}',
      ],
      ['received', '{"jsonrpc":"2.0","id":"1","result":{"server_protocol_version":1}}'],
    ]);
    expect(found[0]).toMatch(/initialize result fails/);
  });

  it('flags blobs/put in the v0.11 dialect', () => {
    expect(
      problems('v0.11', [
        [
          'received',
          '{"jsonrpc":"2.0","id":"w","method":"blobs/put","params":{"data":1,"blob_type":"data"}}',
        ],
      ])[0],
    ).toMatch(/unknown method/);
  });
});
