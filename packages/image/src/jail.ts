import { randomUUID } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  read,
  readlinkSync,
  readSync,
  realpathSync,
  rename,
  renameSync,
  unlinkSync,
  write,
  writeSync,
  type Dir,
} from 'node:fs';
import { opendir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { RpcError } from '@stepflow-packs/core';
import { refused, showPath } from './errors.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;
const O_CLOEXEC = (constants as Record<string, number>).O_CLOEXEC ?? 0;
let procFd: boolean | undefined;
/** Linux with /proc mounted: descriptors can be re-checked and handed to libvips by path. */
function hasProcFd(): boolean {
  return (procFd ??= process.platform === 'linux' && existsSync('/proc/self/fd'));
}
/**
 * Metadata system calls (open, fstat, realpath, rename, …) are made synchronously: on local
 * file systems they take microseconds, far less than a round trip through libuv's thread pool,
 * which sharp's jobs also use. Data up to this size is read and written synchronously too;
 * larger transfers go through the thread pool so the event loop stays responsive.
 */
const SYNC_IO_BYTES = 4 * 1024 * 1024;
const readAsync = promisify(read);
const writeAsync = promisify(write);
const renameAsync = promisify(rename);

export const ROOTS_SETTING = 'STEPFLOW_IMAGE_ROOTS (or --root)';

/** Where a validated write goes. `path` has a realpath'd parent and is not a link. */
export interface OutputTarget {
  readonly path: string;
  readonly parent: string;
  readonly overwrite: boolean;
}

/**
 * An input file opened and validated but not read: libvips reads it itself through
 * `/proc/self/fd/<fd>` (the very file that was checked, even if its path changes meanwhile),
 * so no copy of the image passes through JavaScript. Call `close()` when done.
 */
export interface OpenedFile {
  /** The real (symlink-free) path. */
  readonly path: string;
  readonly size: number;
  /** The first bytes (up to 64 KiB): magic number and, for JPEG, the header segments. */
  readonly head: Buffer;
  /** What to hand to sharp: the descriptor's /proc path. */
  readonly source: string;
  close(): void;
}

export function canOpenByFd(): boolean {
  return hasProcFd();
}

/** A temporary output file, created and checked, waiting for its bytes. */
export interface PendingWrite {
  /** Where the file will be once committed. */
  readonly path: string;
  /** Write the bytes, then rename (overwrite) or hard-link (no overwrite) into place. */
  commit(data: Uint8Array): Promise<void>;
  /** Remove the temporary file (idempotent; no-op after a successful commit). */
  discard(): void;
}

export interface ReadResult {
  /** The real (symlink-free) path that was read. */
  readonly path: string;
  readonly data: Buffer;
}

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : undefined;
}

function inside(root: string, path: string): boolean {
  if (path === root) return true;
  const prefix = root.endsWith(sep) ? root : root + sep;
  return path.startsWith(prefix);
}

/**
 * Confines every file-system access of the pack to the configured roots (realpath'd at
 * start-up). Reads: resolve, contain, realpath, contain again, open without following links
 * and without blocking (FIFOs, devices), fstat for a regular file, and on Linux re-check the
 * opened descriptor's path. Writes: realpath'd parent, exclusive no-follow temp file, then an
 * atomic rename (overwrite) or hard link (no overwrite).
 */
/** One entry found by `Jail.list`. */
export interface DirectoryEntry {
  path: string;
  /** `special`: FIFO, socket or device; `excluded_directory`: the `skip` folder. */
  kind: 'file' | 'symlink' | 'special' | 'directory' | 'excluded_directory';
}

export class Jail {
  readonly roots: readonly string[];

  constructor(roots: readonly string[]) {
    this.roots = roots;
  }

  get configured(): boolean {
    return this.roots.length > 0;
  }

  contains(path: string): boolean {
    return this.roots.some((root) => inside(root, path));
  }

  /** Lexical resolution of a user path (relative = against the first root) plus containment. */
  resolve(userPath: string, field: string): string {
    if (!this.configured) {
      throw refused(
        'roots_not_configured',
        `Path-based image I/O is disabled: no roots are configured (set ${ROOTS_SETTING}); ${field} cannot be used`,
        { setting: 'STEPFLOW_IMAGE_ROOTS', flag: '--root', field },
      );
    }
    if (userPath.includes('\0')) {
      throw refused('invalid_path', `${field} contains a NUL character`, { field });
    }
    const lexical = isAbsolute(userPath) ? resolve(userPath) : resolve(this.roots[0]!, userPath);
    if (!this.contains(lexical)) throw this.#outside(userPath, field);
    return lexical;
  }

  #outside(userPath: string, field: string): RpcError {
    return refused('outside_roots', `${field} ${showPath(userPath)} is outside the allowed roots`, {
      field,
      path: userPath,
    });
  }

  async #realpath(
    lexical: string,
    userPath: string,
    field: string,
    missing: string,
  ): Promise<string> {
    let real: string;
    try {
      real = realpathSync.native(lexical);
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw refused(missing, `${field} ${showPath(userPath)} does not exist`, {
          field,
          path: userPath,
        });
      }
      if (code === 'ELOOP') {
        throw refused('symlink_loop', `${field} ${showPath(userPath)} is a symbolic link loop`, {
          field,
          path: userPath,
        });
      }
      if (code === 'EACCES' || code === 'EPERM') {
        throw refused('permission_denied', `${field} ${showPath(userPath)} is not accessible`, {
          field,
          path: userPath,
        });
      }
      throw err;
    }
    if (!this.contains(real)) throw this.#outside(userPath, field);
    return real;
  }

  /** On Linux, the path the kernel actually opened must still be inside a root (TOCTOU guard). */
  #checkOpened(fd: number, userPath: string, field: string): void {
    if (!hasProcFd()) return;
    let opened: string;
    try {
      opened = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return; // /proc not mounted: the realpath check above stands
    }
    if (!this.contains(opened)) throw this.#outside(userPath, field);
  }

  /** Open a regular file inside the roots without following links or blocking; checks its size. */
  async #open(
    userPath: string,
    field: string,
    maxBytes: number,
  ): Promise<{ real: string; fd: number; size: number }> {
    const lexical = this.resolve(userPath, field);
    const real = await this.#realpath(lexical, userPath, field, 'not_found');
    let fd: number;
    try {
      // O_NONBLOCK: opening a FIFO or device never waits; O_NOFOLLOW: a link swapped in since
      // the realpath check is refused instead of followed.
      fd = openSync(real, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ELOOP') throw this.#outside(userPath, field);
      if (code === 'ENOENT')
        throw refused('not_found', `${field} ${showPath(userPath)} does not exist`, {
          field,
          path: userPath,
        });
      if (code === 'EACCES' || code === 'EPERM') {
        throw refused('permission_denied', `${field} ${showPath(userPath)} is not readable`, {
          field,
          path: userPath,
        });
      }
      if (code === 'ENXIO' || code === 'EISDIR') {
        throw refused('not_regular_file', `${field} ${showPath(userPath)} is not a regular file`, {
          field,
          path: userPath,
        });
      }
      throw err;
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) {
        throw refused('not_regular_file', `${field} ${showPath(userPath)} is not a regular file`, {
          field,
          path: userPath,
        });
      }
      this.#checkOpened(fd, userPath, field);
      if (stat.size > maxBytes) {
        throw refused(
          'input_too_large',
          `${field} ${showPath(userPath)} is ${stat.size} bytes, over the limit of ${maxBytes}`,
          {
            field,
            path: userPath,
            limit: maxBytes,
            actual: stat.size,
          },
        );
      }
      return { real, fd, size: stat.size };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /**
   * Open a regular file inside the roots for libvips to read by descriptor (Linux). Elsewhere
   * the caller falls back to `readFile`.
   */
  async openFile(userPath: string, field: string, maxBytes: number): Promise<OpenedFile> {
    const { real, fd, size } = await this.#open(userPath, field, maxBytes);
    let open = true;
    try {
      const head = Buffer.allocUnsafe(Math.min(size, 64 * 1024));
      let filled = 0;
      while (filled < head.length) {
        const bytesRead = readSync(fd, head, filled, head.length - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return {
        path: real,
        size,
        head: head.subarray(0, filled),
        source: `/proc/self/fd/${fd}`,
        close() {
          if (open) {
            open = false;
            closeSync(fd);
          }
        },
      };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Read a whole regular file inside the roots, refusing anything over `maxBytes`. */
  async readFile(userPath: string, field: string, maxBytes: number): Promise<ReadResult> {
    const { real, fd, size } = await this.#open(userPath, field, maxBytes);
    try {
      // Read up to maxBytes + 1 so a file that grew after fstat is still caught.
      const buffer = Buffer.allocUnsafe(Math.min(size, maxBytes) + 1);
      let filled = 0;
      while (filled < buffer.length) {
        const length = buffer.length - filled;
        const bytesRead =
          length <= SYNC_IO_BYTES
            ? readSync(fd, buffer, filled, length, filled)
            : (await readAsync(fd, buffer, filled, length, filled)).bytesRead;
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled > maxBytes) {
        throw refused(
          'input_too_large',
          `${field} ${showPath(userPath)} is over the limit of ${maxBytes} bytes`,
          {
            field,
            path: userPath,
            limit: maxBytes,
          },
        );
      }
      return { path: real, data: buffer.subarray(0, filled) };
    } finally {
      closeSync(fd);
    }
  }

  /** Validate an output path: parent realpath'd and inside the roots, target not a link. */
  async prepareOutput(userPath: string, field: string, overwrite: boolean): Promise<OutputTarget> {
    const lexical = this.resolve(userPath, field);
    const name = basename(lexical);
    if (name === '' || name === '.' || name === '..') {
      throw refused('invalid_path', `${field} ${showPath(userPath)} does not name a file`, {
        field,
        path: userPath,
      });
    }
    const parent = await this.#realpath(
      dirname(lexical),
      userPath,
      field,
      'output_directory_missing',
    );
    const target = join(parent, name);
    this.#checkTarget(target, userPath, field, overwrite);
    return { path: target, parent, overwrite };
  }

  #checkTarget(target: string, userPath: string, field: string, overwrite: boolean): void {
    let stat;
    try {
      stat = lstatSync(target);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return;
      throw err;
    }
    if (stat.isSymbolicLink()) {
      throw refused(
        'output_is_symlink',
        `${field} ${showPath(userPath)} is a symbolic link; outputs never follow links`,
        {
          field,
          path: userPath,
        },
      );
    }
    if (!stat.isFile()) {
      throw refused(
        'output_not_regular_file',
        `${field} ${showPath(userPath)} exists and is not a regular file`,
        {
          field,
          path: userPath,
        },
      );
    }
    if (!overwrite) {
      throw refused(
        'output_exists',
        `${field} ${showPath(userPath)} already exists (set overwrite: true to replace it)`,
        {
          field,
          path: userPath,
        },
      );
    }
  }

  /**
   * Create the exclusive, no-follow temporary file for `target` now (synchronously, so callers
   * can do it while sharp works in the thread pool); `commit` writes it and moves it into place.
   */
  prepareWrite(target: OutputTarget, field: string, userPath: string): PendingWrite {
    const stem = basename(target.path).slice(0, 180);
    // 48 random bits from randomUUID's pre-generated pool (randomBytes calls into OpenSSL each time).
    const temp = join(target.parent, `.${stem}.${randomUUID().slice(0, 13)}.tmp`);
    let fd: number | undefined = openSync(
      temp,
      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
      0o644,
    );
    let settled = false;
    const discard = () => {
      if (settled) return;
      settled = true;
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      try {
        unlinkSync(temp);
      } catch {
        // already gone
      }
    };
    try {
      this.#checkOpened(fd, userPath, field);
    } catch (err) {
      discard();
      throw err;
    }
    // Replacing an existing file makes ext4 (auto_da_alloc) start writeback of the new data
    // inside rename(2), which takes up to milliseconds under I/O load: that rename runs in
    // libuv's thread pool so it never stalls the event loop that dispatches sharp jobs. Linking
    // a new name has no such cost and stays synchronous.
    const place = async () => {
      if (target.overwrite) {
        await renameAsync(temp, target.path);
        return;
      }
      try {
        linkSync(temp, target.path); // fails with EEXIST instead of replacing
      } catch (err) {
        const code = errnoOf(err);
        if (code === 'EEXIST') {
          throw refused(
            'output_exists',
            `${field} ${showPath(userPath)} already exists (set overwrite: true to replace it)`,
            {
              field,
              path: userPath,
            },
          );
        }
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV')
          throw err;
        // File systems without hard links: re-check, then rename.
        this.#checkTarget(target.path, userPath, field, false);
        renameSync(temp, target.path);
        return;
      }
      unlinkSync(temp);
    };
    return {
      path: target.path,
      discard,
      async commit(data) {
        if (settled || fd === undefined) throw new Error('write already settled');
        try {
          let written = 0;
          while (written < data.length) {
            const length = data.length - written;
            written +=
              length <= SYNC_IO_BYTES
                ? writeSync(fd, data, written, length)
                : (await writeAsync(fd, data, written, length)).bytesWritten;
          }
          closeSync(fd);
          fd = undefined;
          await place();
          settled = true;
        } catch (err) {
          discard();
          throw err;
        }
      },
    };
  }

  /** Write atomically: exclusive no-follow temp file in the real parent, then rename or link. */
  async write(
    target: OutputTarget,
    data: Uint8Array,
    field: string,
    userPath: string,
  ): Promise<void> {
    await this.prepareWrite(target, field, userPath).commit(data);
  }

  /** Realpath of an existing directory inside the roots. */
  async directory(userPath: string, field: string): Promise<string> {
    const lexical = this.resolve(userPath, field);
    const real = await this.#realpath(lexical, userPath, field, 'not_found');
    const stat = lstatSync(real);
    if (!stat.isDirectory()) {
      throw refused('not_a_directory', `${field} ${showPath(userPath)} is not a directory`, {
        field,
        path: userPath,
      });
    }
    return real;
  }

  /**
   * Realpath of a directory inside the roots, creating missing components one at a time under
   * the nearest existing (realpath'd, contained) ancestor.
   */
  async ensureDirectory(userPath: string, field: string): Promise<string> {
    const lexical = this.resolve(userPath, field);
    const missing: string[] = [];
    let existing = lexical;
    for (;;) {
      try {
        lstatSync(existing);
        break;
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT') throw err;
        if (missing.length >= 32 || dirname(existing) === existing) {
          throw refused('not_found', `${field} ${showPath(userPath)} cannot be created`, {
            field,
            path: userPath,
          });
        }
        missing.unshift(basename(existing));
        existing = dirname(existing);
      }
    }
    let current = await this.#realpath(existing, userPath, field, 'not_found');
    for (const part of missing) {
      const next = join(current, part);
      try {
        mkdirSync(next, { mode: 0o755 });
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw err;
      }
      current = await this.#realpath(next, userPath, field, 'not_found');
    }
    const stat = lstatSync(current);
    if (!stat.isDirectory()) {
      throw refused('not_a_directory', `${field} ${showPath(userPath)} is not a directory`, {
        field,
        path: userPath,
      });
    }
    return current;
  }

  /**
   * Every entry of `directory` with its kind, so that a batch can account for each one.
   * Subdirectories are descended when `recursive` (and then not listed themselves), except
   * `skip`, which is listed as `excluded_directory`. Loop-safe: symbolic links are listed as
   * such and never followed, every directory is visited once. Refuses with -32103
   * `too_many_files` as soon as more than `maxFiles` entries are found.
   */
  async list(
    directory: string,
    options: { recursive: boolean; maxFiles: number; skip?: string; field: string },
  ): Promise<DirectoryEntry[]> {
    const found: DirectoryEntry[] = [];
    const visited = new Set<string>();
    const pending = [directory];
    const add = (entry: DirectoryEntry) => {
      found.push(entry);
      if (found.length > options.maxFiles) {
        throw refused(
          'too_many_files',
          `${options.field} holds more than ${options.maxFiles} entries (limit STEPFLOW_IMAGE_MAX_FILES)`,
          { field: options.field, limit: options.maxFiles },
        );
      }
    };
    while (pending.length > 0) {
      const dir = pending.shift()!;
      if (visited.has(dir)) continue;
      visited.add(dir);
      let handle: Dir;
      try {
        handle = await opendir(dir);
      } catch (err) {
        if (dir === directory) throw err;
        continue;
      }
      for await (const entry of handle) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (options.skip !== undefined && inside(options.skip, path)) {
            add({ path, kind: 'excluded_directory' });
          } else if (options.recursive) pending.push(path);
          else add({ path, kind: 'directory' });
        } else if (entry.isSymbolicLink()) add({ path, kind: 'symlink' });
        else if (entry.isFile()) add({ path, kind: 'file' });
        else add({ path, kind: 'special' });
      }
    }
    return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** `path` relative to its directory, for naming outputs. */
  static relativeTo(directory: string, path: string): string {
    return relative(directory, path);
  }
}
