import { BadRequestError } from '@stepflow-packs/core';
import type pg from 'pg';

/** PostgreSQL truncates longer names (NAMEDATALEN - 1); we refuse them instead. */
export const MAX_IDENTIFIER_BYTES = 63;

export interface QualifiedName {
  readonly schema: string | undefined;
  readonly name: string;
}

const BARE = /^[\p{L}_][\p{L}\p{N}_$]*$/u;

function shown(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}…` : text);
}

/** Refuse empty names, NUL bytes and names over 63 bytes (UTF-8). */
export function checkIdentifier(name: string, field: string): string {
  if (name.length === 0) {
    throw new BadRequestError(`${field} must not be empty`, {
      reason: 'invalid_identifier',
      field,
      identifier: name,
    });
  }
  if (name.includes('\u0000')) {
    throw new BadRequestError(`${field} ${shown(name)} contains a NUL character`, {
      reason: 'invalid_identifier',
      field,
      identifier: name,
    });
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_IDENTIFIER_BYTES) {
    throw new BadRequestError(
      `${field} ${shown(name)} is ${bytes} bytes long; PostgreSQL names are at most 63 bytes`,
      {
        reason: 'identifier_too_long',
        field,
        identifier: name,
        limit: MAX_IDENTIFIER_BYTES,
        actual: bytes,
      },
    );
  }
  return name;
}

/**
 * Parse a table reference the way SQL does: `table` or `schema.table`, each part either a bare
 * identifier (folded to lower case) or a double-quoted one (exact, `""` for a quote). Anything
 * else — spaces, semicolons, stray quotes, more parts — is refused with -32103.
 */
export function parseQualifiedName(text: string, field = 'table_name'): QualifiedName {
  const parts: string[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new BadRequestError(`${field} ${shown(text)} is not a valid table name: ${why}`, {
      reason: 'invalid_identifier',
      field,
      identifier: text,
    });
  };
  while (i <= text.length) {
    if (text[i] === '"') {
      let part = '';
      i++;
      for (;;) {
        if (i >= text.length) fail('unterminated quoted identifier');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += text[i];
        i++;
      }
      parts.push(checkIdentifier(part, field));
    } else {
      const end = text.indexOf('.', i);
      const raw = end === -1 ? text.slice(i) : text.slice(i, end);
      if (!BARE.test(raw)) {
        fail(
          raw.length === 0
            ? 'empty name part'
            : `${shown(raw)} must be a plain identifier (letters, digits, _) or double-quoted`,
        );
      }
      parts.push(checkIdentifier(raw.toLowerCase(), field));
      i += raw.length;
    }
    if (i === text.length) break;
    if (text[i] !== '.') fail('expected "." between schema and table');
    i++;
    if (i === text.length) fail('empty name part');
  }
  if (parts.length > 2) fail('use table or schema.table');
  return parts.length === 2
    ? { schema: parts[0], name: parts[1]! }
    : { schema: undefined, name: parts[0]! };
}

/** Quote one identifier part (`"` doubled). Only ever applied to names read from the catalog. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteQualified(name: QualifiedName): string {
  return name.schema === undefined
    ? quoteIdent(name.name)
    : `${quoteIdent(name.schema)}.${quoteIdent(name.name)}`;
}

/** How values of a column are written (chosen from its catalog type). */
export type ColumnKind = 'json' | 'array' | 'bool' | 'scalar';

export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
  /** Type oid (the base type for domains). */
  readonly baseOid: number;
  readonly kind: ColumnKind;
  /** Element kind for arrays. */
  readonly elementKind: ColumnKind;
  readonly notNull: boolean;
  readonly hasDefault: boolean;
  /** `a`: GENERATED ALWAYS AS IDENTITY (written with OVERRIDING SYSTEM VALUE); `s`: generated column (refused). */
  readonly generated: '' | 'a' | 's';
}

export interface TableInfo {
  readonly schema: string;
  readonly name: string;
  /** `"schema"."table"`, quoted from catalog names. */
  readonly quoted: string;
  readonly kind: string;
  readonly columns: ReadonlyMap<string, ColumnInfo>;
}

const JSON_OIDS = new Set([114, 3802]);

function kindOf(oid: number, category: string): ColumnKind {
  if (JSON_OIDS.has(oid)) return 'json';
  if (category === 'A') return 'array';
  if (category === 'B') return 'bool';
  return 'scalar';
}

const CATALOG_SQL = `SELECT n.nspname AS schema, c.relname AS name, c.relkind AS relkind,
  a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
  COALESCE(NULLIF(t.typbasetype, 0), t.oid)::int AS base_oid, bt.typcategory AS category,
  COALESCE(NULLIF(et.typbasetype, 0), et.oid)::int AS elem_oid, et.typcategory AS elem_category,
  a.attnotnull AS not_null, a.atthasdef AS has_default, a.attgenerated AS generated, a.attidentity AS identity
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_type bt ON bt.oid = COALESCE(NULLIF(t.typbasetype, 0), t.oid)
LEFT JOIN pg_catalog.pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
WHERE c.oid = pg_catalog.to_regclass($1)
ORDER BY a.attnum`;

interface CatalogRow {
  schema: string;
  name: string;
  relkind: string;
  column: string | null;
  type: string;
  base_oid: number;
  category: string;
  elem_oid: number | null;
  elem_category: string | null;
  not_null: boolean;
  has_default: boolean;
  generated: string;
  identity: string;
}

/**
 * Resolve a table through the catalog (honouring search_path for unqualified names). The name
 * travels as a bound parameter; the SQL we build later uses only the catalog's names, quoted.
 */
export async function lookupTable(
  client: pg.ClientBase,
  name: QualifiedName,
  field = 'table_name',
  writable = true,
): Promise<TableInfo> {
  const result = await client.query<CatalogRow>({
    text: CATALOG_SQL,
    values: [quoteQualified(name)],
    queryMode: 'extended',
  } as pg.QueryConfig);
  const first = result.rows[0];
  const display = name.schema === undefined ? name.name : `${name.schema}.${name.name}`;
  if (!first) {
    throw new BadRequestError(
      `${field}: table ${shown(display)} does not exist (or is not visible to this user)`,
      {
        reason: 'unknown_table',
        field,
        identifier: display,
      },
    );
  }
  const allowed = writable ? ['r', 'p'] : ['r', 'p', 'v', 'm', 'f'];
  if (!allowed.includes(first.relkind)) {
    throw new BadRequestError(`${field}: ${shown(display)} is not a table`, {
      reason: 'not_a_table',
      field,
      identifier: display,
    });
  }
  const columns = new Map<string, ColumnInfo>();
  for (const row of result.rows) {
    if (row.column === null) continue;
    columns.set(row.column, {
      name: row.column,
      type: row.type,
      baseOid: row.base_oid,
      kind: kindOf(row.base_oid, row.category),
      elementKind: row.elem_oid === null ? 'scalar' : kindOf(row.elem_oid, row.elem_category ?? ''),
      notNull: row.not_null,
      hasDefault: row.has_default || row.identity !== '',
      generated: row.generated === 's' ? 's' : row.identity === 'a' ? 'a' : '',
    });
  }
  return {
    schema: first.schema,
    name: first.name,
    quoted: `${quoteIdent(first.schema)}.${quoteIdent(first.name)}`,
    kind: first.relkind,
    columns,
  };
}

/** Check record keys / key columns against the table; returns the catalog's column infos. */
export function resolveColumns(
  table: TableInfo,
  names: readonly string[],
  field: string,
): ColumnInfo[] {
  const out: ColumnInfo[] = [];
  for (const name of names) {
    checkIdentifier(name, field);
    const column = table.columns.get(name);
    if (!column) {
      throw new BadRequestError(
        `${field}: column ${shown(name)} does not exist in table ${shown(`${table.schema}.${table.name}`)}`,
        {
          reason: 'unknown_column',
          field,
          identifier: name,
          table: `${table.schema}.${table.name}`,
        },
      );
    }
    if (column.generated === 's') {
      throw new BadRequestError(
        `${field}: column ${shown(name)} is a generated column and cannot be written`,
        {
          reason: 'generated_column',
          field,
          identifier: name,
        },
      );
    }
    out.push(column);
  }
  return out;
}
