/**
 * Every secret the tests hand to the bridge. Each bridge a test starts checks, when it closes,
 * that none of them appears anywhere in its log output, so the whole suite is a secret scan of
 * every log line it produces. Tests using a new secret register it first.
 */
import { TEST_PASSWORD } from './sshd.js';

const secrets = new Set<string>([TEST_PASSWORD, 'wonderland', 'not-the-password', 'also-wrong', 'definitely-Wrong-pw-9']);

export function registerSecret(secret: string): string {
  if (secret.length >= 6) secrets.add(secret);
  return secret;
}

/** The registered secrets found in `text` (empty when clean). */
export function leakedSecrets(text: string): string[] {
  return [...secrets].filter((s) => text.includes(s));
}
