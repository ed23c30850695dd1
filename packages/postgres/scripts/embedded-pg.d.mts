export interface Cluster {
  port: number;
  url: string;
  password: string;
  dataDir: string;
  root: string;
  logFile: string;
  pid: number | undefined;
  /** Run pg_ctl on this cluster's data directory (`-D`, `-l`, `-w` are added). */
  pgCtl(args: string[]): string;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  port?: number;
  password?: string;
  /** postgresql.conf settings passed as `-c name=value`. */
  settings?: Record<string, string>;
  /** `child` (default): postgres is our child process; `pg_ctl`: daemonised with pg_ctl. */
  mode?: 'child' | 'pg_ctl';
  /** Copy this data directory instead of running initdb. */
  template?: string;
  startTimeoutMs?: number;
  tmpRoot?: string;
}

export function startCluster(options?: ClusterOptions): Promise<Cluster>;
export function createTemplate(options?: {
  password?: string;
}): Promise<{ dataDir: string; remove(): void }>;
export function freePort(): Promise<number>;
export function binaries(): Promise<{
  initdb: string;
  pgCtl: string;
  postgres: string;
  binDir: string;
}>;
export function main(argv?: string[]): Promise<void>;
