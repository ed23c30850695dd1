import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { substitute } from '../config/env-subst.js';

/**
 * Resolve a plugin `command` like the runtime: a bare name is looked
 * up on the runner's own PATH; a name containing a slash is relative to the working directory.
 */
export function resolveCommand(
  command: string,
  workingDirectory: string,
  path = process.env.PATH ?? '',
): string {
  if (command.includes('/')) {
    const full = isAbsolute(command) ? command : resolve(workingDirectory, command);
    if (!isExecutableFile(full))
      throw new Error(`command ${JSON.stringify(command)} does not exist (resolved to ${full})`);
    return full;
  }
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new Error(`command ${JSON.stringify(command)} was not found on PATH`);
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Substitute `args` and `env` from the runner's environment. The worker
 * gets exactly the configured `env` entries: nothing is inherited, so parent secrets stay out.
 */
export function launchSettings(
  args: readonly string[] | undefined,
  env: Readonly<Record<string, string>> | undefined,
  processEnv: Readonly<Record<string, string | undefined>>,
): { args: string[]; env: Record<string, string> } {
  const outArgs = (args ?? []).map((arg, i) => {
    try {
      return substitute(arg, processEnv);
    } catch (err) {
      throw new Error(`args[${i}]: ${(err as Error).message}`);
    }
  });
  const outEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env ?? {})) {
    try {
      outEnv[name] = substitute(value, processEnv);
    } catch (err) {
      throw new Error(`env.${name}: ${(err as Error).message}`);
    }
  }
  return { args: outArgs, env: outEnv };
}
