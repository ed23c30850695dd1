// Shared helpers for the benchmark scripts: process drivers, timing and reporting.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../', import.meta.url));

/** Spawn a newline-JSON worker and drive it with `call(frame) → Promise<response>`. */
export function stdioDriver(command, args, env = {}) {
  const child = spawn(command, args, {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { PATH: process.env.PATH, STEPFLOW_LOG_LEVEL: 'warn', ...env },
  });
  const pending = new Map();
  let buffer = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    buffer += text;
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      const m = JSON.parse(line);
      pending.get(m.id)?.(m);
      pending.delete(m.id);
    }
  });
  let id = 0;
  return {
    child,
    call(method, params) {
      const n = ++id;
      return new Promise((resolve) => {
        pending.set(n, resolve);
        child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: n, method, params }) + '\n');
      });
    },
    close() {
      child.stdin.end();
      return new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** Spawn a process that announces `{"port":N}`; resolves with the port and the start time. */
export function spawnWithPort(command, args, env = {}) {
  const started = performance.now();
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { PATH: process.env.PATH, STEPFLOW_LOG_LEVEL: 'warn', ...env },
  });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d) =>
      resolve({
        child,
        port: JSON.parse(String(d).split('\n')[0]).port,
        ms: performance.now() - started,
      }),
    );
    child.once('error', reject);
  });
}

/** Run `op` `total` times with `concurrency` in flight; returns operations per second. */
export async function throughput(op, total, concurrency) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        await op();
      }
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

export function report(title, rows) {
  console.log(`\n## ${title}\n`);
  console.log('| measurement | subject | baseline | ratio | target | |');
  console.log('|---|---:|---:|---:|---:|---|');
  for (const r of rows) {
    const ratio = r.ratio ?? r.subject / r.baseline;
    const ok = r.pass ?? (r.target === undefined ? true : ratio >= r.target);
    const fmt = (v) =>
      typeof v === 'number'
        ? v >= 100
          ? Math.round(v).toString()
          : v.toFixed(2)
        : String(v ?? '');
    console.log(
      `| ${r.name} | ${fmt(r.subject)} ${r.unit ?? ''} | ${fmt(r.baseline)} ${r.baseline === undefined ? '' : (r.unit ?? '')} | ${r.baseline === undefined ? '' : ratio.toFixed(2) + '×'} | ${r.targetText ?? (r.target === undefined ? '' : '≥ ' + r.target + '×')} | ${ok ? 'ok' : 'BELOW TARGET'} |`,
    );
  }
}

/** JSON over an undici Pool: `rest(method, path, body?)` → the parsed 200 reply, else an error. */
export function restJson(pool) {
  return async (method, path, body) => {
    const res = await pool.request({
      method,
      path,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200)
      throw new Error(`${method} ${path} → ${res.statusCode} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
}

/**
 * A process's CPU seconds so far from /proc/<pid>/stat (utime + stime, plus its reaped
 * children's with `children`) and its parent's pid; undefined once the process is gone.
 */
export function processCpu(pid, children = false) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // after "pid (comm) ": state ppid … utime stime cutime cstime (USER_HZ = 100 on Linux)
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
  return { seconds: ticks / 100, ppid: Number(f[1]) };
}

/**
 * The whole machine's CPU time so far from /proc/stat, in seconds: `busy` is everything but
 * idle and iowait (steal included), `steal` the time the hypervisor ran something else while a
 * virtual CPU of this machine had work.
 */
export function machineCpu() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1);
  // user nice system idle iowait irq softirq steal (USER_HZ = 100 on Linux)
  const at = (i) => Number(fields[i] ?? 0) / 100;
  return { busy: [0, 1, 2, 5, 6, 7].reduce((sum, i) => sum + at(i), 0), steal: at(7) };
}
