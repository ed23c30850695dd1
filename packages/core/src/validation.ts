import type { z } from 'zod';
import { InvalidInputError } from './errors.js';

export interface InputIssue {
  path: string;
  message: string;
}

/** `input.records[3].name` style path. */
export function formatPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment))
      out += `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/** Flatten zod issues into `{path, message}` pairs; unknown keys get one issue each. */
export function describeIssues(error: z.ZodError, root = 'input'): InputIssue[] {
  const issues: InputIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({
          path: formatPath(root, [...issue.path, key]),
          message: 'unknown key (not allowed by the schema)',
        });
      }
    } else {
      issues.push({ path: formatPath(root, issue.path), message: issue.message });
    }
  }
  return issues;
}

/** -32003 error naming the first failing path, with every issue in `data.issues`. */
export function invalidInput(error: z.ZodError, component: string): InvalidInputError {
  const issues = describeIssues(error);
  const first = issues[0];
  const message = first
    ? `${first.path}: ${first.message}`
    : `input does not match the schema of component "${component}"`;
  return new InvalidInputError(message, issues);
}
