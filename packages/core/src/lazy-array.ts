import { z } from 'zod';
import { toJsonSchema } from './component.js';
import { InvalidInputError } from './errors.js';
import { DeferredJsonArray, LAZY_BATCH_SHIFT, markLazyArraySchema } from './lazy-json.js';
import { fastGuardOf } from './schemas.js';

const MASK = (1 << LAZY_BATCH_SHIFT) - 1;

type ItemCheck = (value: unknown, index: number) => void;

/**
 * An array input whose elements may still be JSON text: a large array of a request arrives
 * unparsed (see `lazyArray()`) and is parsed, and each element validated, batch by batch on
 * first access. Arrays given directly (the testing kit, small requests) are used as they are.
 * Read it in order with `at(i)` to overlap parsing with the component's own work; `toArray()`
 * parses whatever is left at once.
 */
export class LazyArray<T> implements Iterable<T> {
  readonly length: number;
  #items: T[] | undefined;
  readonly #deferred: DeferredJsonArray | undefined;
  readonly #check: ItemCheck | undefined;
  readonly #batches: (T[] | undefined)[] = [];

  private constructor(
    items: T[] | undefined,
    deferred: DeferredJsonArray | undefined,
    check: ItemCheck | undefined,
  ) {
    this.#items = items;
    this.#deferred = deferred;
    this.#check = check;
    this.length = items ? items.length : deferred!.length;
  }

  /** A LazyArray over elements that are already parsed and validated. */
  static from<T>(items: T[]): LazyArray<T> {
    return new LazyArray(items, undefined, undefined);
  }

  /** @internal A LazyArray over a deferred JSON array; `check` validates each parsed element. */
  static deferred<T>(deferred: DeferredJsonArray, check: ItemCheck): LazyArray<T> {
    return new LazyArray<T>(undefined, deferred, check);
  }

  /** Whether some elements may still be unparsed JSON text. */
  get deferred(): boolean {
    return this.#items === undefined;
  }

  /**
   * Element `index` (undefined past the end). Parses and validates its batch on first access:
   * a syntax error throws -32700, an invalid element -32003 naming `input.<field>[index]`.
   */
  at(index: number): T | undefined {
    if (this.#items) return this.#items[index];
    if (index < 0 || index >= this.length) return undefined;
    const k = index >> LAZY_BATCH_SHIFT;
    return (this.#batches[k] ?? this.#load(k))[index & MASK];
  }

  /** Every element, parsed and validated now (the same array on later calls). */
  toArray(): T[] {
    if (this.#items) return this.#items;
    const items = new Array<T>(this.length);
    for (let k = 0; k < this.#deferred!.batches; k++) {
      const batch = this.#batches[k] ?? this.#load(k);
      const first = k << LAZY_BATCH_SHIFT;
      for (let j = 0; j < batch.length; j++) items[first + j] = batch[j]!;
    }
    this.#items = items;
    this.#batches.length = 0;
    return items;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.length; i++) yield this.at(i)!;
  }

  #load(k: number): T[] {
    const batch = this.#deferred!.parseBatch(k);
    const first = k << LAZY_BATCH_SHIFT;
    const check = this.#check!;
    for (let j = 0; j < batch.length; j++) check(batch[j], first + j);
    this.#batches[k] = batch as T[];
    return batch as T[];
  }
}

export interface LazyArrayOptions {
  /** Message for an element that fails the item schema (default: the schema's own). */
  message?: string;
  /** Most elements accepted (default: unlimited). */
  maxItems?: number;
}

/**
 * An array input field that is parsed lazily when it arrives in a large request: the component
 * receives a `LazyArray<T>` either way. Use it directly as a field of the component's
 * `z.object` input (`.describe()` is fine; wrappers like `.optional()` are not). Each element is
 * validated with `item` (as it is parsed, for deferred arrays: the first invalid element fails
 * the call at that point, so the component must stay all-or-nothing). Published as
 * `{type: "array", items: <item>}`.
 */
export function lazyArray<T>(
  item: z.ZodType<T>,
  options: LazyArrayOptions = {},
): z.ZodType<LazyArray<T>, unknown> {
  const guard = fastGuardOf(item);
  const describe = (value: unknown): string | undefined => {
    if (guard) return guard.test(value) ? undefined : (options.message ?? guard.message);
    const parsed = item.safeParse(value);
    return parsed.success ? undefined : (options.message ?? parsed.error.issues[0]?.message);
  };
  const max = options.maxItems ?? Infinity;
  const tooMany = (length: number) => `expected at most ${max} items, got ${length}`;
  const { $schema: _ignored, ...items } = toJsonSchema(item, 'input');
  const schema = z
    .custom<unknown>()
    .check((ctx) => {
      const value = ctx.value;
      if (value instanceof DeferredJsonArray) {
        if (value.length > max)
          ctx.issues.push({ code: 'custom', message: tooMany(value.length), input: value });
        return;
      }
      if (!Array.isArray(value)) {
        ctx.issues.push({
          code: 'invalid_type',
          expected: 'array',
          input: value,
          message: 'expected an array',
        });
        return;
      }
      if (value.length > max) {
        ctx.issues.push({ code: 'custom', message: tooMany(value.length), input: value });
        return;
      }
      for (let i = 0; i < value.length; i++) {
        const problem = describe(value[i]);
        if (problem !== undefined) {
          ctx.issues.push({ code: 'custom', message: problem, path: [i], input: value[i] });
          return;
        }
      }
    })
    .transform((value) =>
      value instanceof DeferredJsonArray
        ? LazyArray.deferred<T>(value, (element, index) => {
            const problem = describe(element);
            if (problem === undefined) return;
            const path = `input.${value.field}[${index}]`;
            throw new InvalidInputError(`${path}: ${problem}`, [{ path, message: problem }]);
          })
        : LazyArray.from(value as T[]),
    )
    .meta({ type: 'array', items, ...(Number.isFinite(max) ? { maxItems: max } : {}) });
  markLazyArraySchema(schema);
  return schema as unknown as z.ZodType<LazyArray<T>, unknown>;
}
