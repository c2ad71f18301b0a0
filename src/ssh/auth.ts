/**
 * Builds ssh2's `authHandler` from the credentials a client sent. Going straight to the chosen
 * method skips ssh2's default `none` probe (one round trip saved per login). A password is also
 * offered through keyboard-interactive when the server only allows that (PAM-only servers), but
 * only for a single echo-off prompt, which is what a password prompt looks like.
 */
import type { AnyAuthMethod, AuthHandlerMiddleware, AuthenticationType } from 'ssh2';
import type { AuthMethod } from '../protocol/types.js';

export function authHandlerFor(username: string, auth: AuthMethod): AuthHandlerMiddleware {
  const attempts: AnyAuthMethod[] = [];
  if (auth.method === 'password') {
    attempts.push({ type: 'password', username, password: auth.password });
    attempts.push({
      type: 'keyboard-interactive',
      username,
      prompt(_name, _instructions, _lang, prompts, finish) {
        const first = prompts[0];
        if (prompts.length === 1 && first !== undefined && !first.echo) finish([auth.password]);
        else finish([]);
      },
    });
  } else {
    const key: AnyAuthMethod =
      auth.passphrase === undefined
        ? { type: 'publickey', username, key: auth.privateKey }
        : { type: 'publickey', username, key: auth.privateKey, passphrase: auth.passphrase };
    attempts.push(key);
  }
  let next = 0;
  return (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, callback) => {
    while (next < attempts.length) {
      const attempt = attempts[next++];
      if (attempt === undefined) break;
      // methodsLeft is null before the server has told us anything: try the first choice.
      if (methodsLeft === null || methodsLeft.includes(attempt.type)) {
        callback(attempt);
        return;
      }
    }
    callback(false as unknown as AnyAuthMethod);
  };
}
