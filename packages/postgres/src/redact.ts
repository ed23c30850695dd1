import { oneSentence, redactCredentials } from '@stepflow-packs/core';

/**
 * Remove credentials from free text: URL userinfo, `password=…` keywords, and every literal
 * secret passed (passwords known from the connection target, also URL-encoded).
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = redactCredentials(text);
  for (const secret of secrets) {
    if (secret.length < 3) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      out = out.split(form).join('***');
    }
  }
  return out;
}

/** One redacted sentence for error messages. */
export function safeMessage(err: unknown, secrets: readonly string[] = []): string {
  const text = err instanceof Error ? err.message : String(err);
  return oneSentence(redact(text, secrets));
}
