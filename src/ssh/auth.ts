/**
 * Builds ssh2's `authHandler` from the credentials a client sent. Going straight to the chosen
 * method skips ssh2's default `none` probe (one round trip saved per login).
 *
 * - password: also offered through keyboard-interactive when the server only allows that
 *   (PAM-only servers), but only for a single echo-off prompt, which is what a password prompt
 *   looks like.
 * - publickey: the key arrives already parsed (src/ssh/keys.ts), never as text.
 * - keyboard-interactive (v1): every round is handed to `askPrompt` (the session puts it to the
 *   client and waits for `prompt-reply`); a round with no prompts is answered with [] at once.
 *
 * When the handler runs out of attempts it records whether the server offered any of the
 * methods the client chose (`methodsLeft`): if not, the failure is SSH_NO_AUTH_METHOD rather than
 * wrong credentials. `dispose()` drops the secrets once authentication is over.
 */
import type { AnyAuthMethod, AuthHandlerMiddleware, AuthenticationType, KeyboardInteractiveCallback, ParsedKey, Prompt } from 'ssh2';
import type { AuthPromptRound } from '../protocol/types.js';

/** What the handler needs: the password, the parsed key, or nothing (keyboard-interactive). */
export type PreparedAuth =
  | { readonly method: 'password'; readonly password: string }
  | { readonly method: 'publickey'; readonly key: ParsedKey }
  | { readonly method: 'keyboard-interactive' };

export interface AuthHandle {
  readonly handler: AuthHandlerMiddleware;
  /** True once the handler gave up because the server offers none of the chosen methods. */
  readonly noMethod: () => boolean;
  /** Forget the credentials (after authentication, success or not). */
  readonly dispose: () => void;
}

/** Answers one keyboard-interactive round; rejects to abort the login. */
export type AskPrompt = (round: AuthPromptRound) => Promise<string[]>;

export function authHandlerFor(username: string, auth: PreparedAuth, askPrompt: AskPrompt, onAskFailed: (err: unknown) => void): AuthHandle {
  let attempts: AnyAuthMethod[] = [];
  if (auth.method === 'password') {
    const password = auth.password;
    attempts.push({ type: 'password', username, password });
    attempts.push({
      type: 'keyboard-interactive',
      username,
      prompt(_name, _instructions, _lang, prompts, finish) {
        const first = prompts[0];
        if (prompts.length === 1 && first !== undefined && !first.echo) finish([password]);
        else finish([]);
      },
    });
  } else if (auth.method === 'publickey') {
    attempts.push({ type: 'publickey', username, key: auth.key });
  } else {
    attempts.push({
      type: 'keyboard-interactive',
      username,
      prompt(name: string, instructions: string, _lang: string, prompts: Prompt[], finish: KeyboardInteractiveCallback) {
        if (prompts.length === 0) {
          finish([]);
          return;
        }
        const round: AuthPromptRound = { name, instructions, prompts: prompts.map((p) => ({ prompt: p.prompt, echo: p.echo === true })) };
        askPrompt(round).then(finish, onAskFailed);
      },
    });
  }
  const chosen = new Set(attempts.map((a) => a.type));
  let next = 0;
  let noMethod = false;
  const handler: AuthHandlerMiddleware = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, callback) => {
    while (next < attempts.length) {
      const attempt = attempts[next++];
      if (attempt === undefined) break;
      // methodsLeft is null before the server has told us anything: try the first choice.
      if (methodsLeft === null || methodsLeft.includes(attempt.type)) {
        callback(attempt);
        return;
      }
    }
    noMethod = methodsLeft !== null && !methodsLeft.some((m) => chosen.has(m));
    callback(false as unknown as AnyAuthMethod);
  };
  return {
    handler,
    noMethod: () => noMethod,
    dispose: () => {
      // ssh2 keeps the last attempt object for the client's lifetime: blank its secrets too.
      for (const a of attempts as Array<{ password?: string; key?: unknown }>) {
        if (a.password !== undefined) a.password = '';
        if (a.key !== undefined) a.key = undefined;
      }
      attempts = [];
    },
  };
}
