/**
 * The questions a session puts to its client during the login, and the answers' routing: the
 * SshLink asks (an unknown host key, a keyboard-interactive round), this sends the question
 * through the codec and hands the client's `hostkey-reply` / `prompt-reply` straight to the
 * waiting asker. At most one of each kind is pending.
 *
 * Deadlines: the host key question has its own, `ws-auth-timeout` (the SSH handshake clock is
 * paused meanwhile); no answer in time is HOST_KEY_REJECTED, like a Reject, so the page does not
 * retry into the same question. A keyboard-interactive round has none of its own:
 * `ssh-auth-timeout` keeps running while the user types and bounds the whole login. Responses
 * are secrets and are never logged.
 */
import { BridgeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PresentedHostKey } from '../ssh/connect.js';
import type { HostKeySubject } from '../ssh/link.js';
import type { AuthPromptRound, ClientMessage, ServerControl } from '../protocol/types.js';

interface Waiter<T> {
  readonly answer: (value: T) => void;
  readonly cancel: () => void;
}

export interface LoginQuestionsInit {
  /** Whether the client can be asked at all (the codec's `questions` capability). */
  readonly canAsk: boolean;
  /** Put a question to the client. */
  readonly send: (msg: ServerControl) => void;
  /** How long the client may take to answer a host key question (ws-auth-timeout). */
  readonly hostKeyWaitMs: number;
  /** The target as the user named it, for the question and the log. */
  readonly target: { readonly host: string; readonly port: number };
  readonly logger: Logger;
}

export class LoginQuestions {
  readonly #init: LoginQuestionsInit;
  #hostKey: Waiter<boolean> | undefined;
  #prompt: (Waiter<string[]> & { readonly count: number }) | undefined;
  #cancelled = false;

  constructor(init: LoginQuestionsInit) {
    this.#init = init;
  }

  get canAsk(): boolean {
    return this.#init.canAsk;
  }

  /** Ask about an unknown host key: true when the user accepts it. */
  readonly askHostKey = (k: PresentedHostKey, target: HostKeySubject = this.#init.target): Promise<boolean> => {
    const { hostKeyWaitMs: ms, logger } = this.#init;
    if (this.#cancelled) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#hostKey = undefined;
        logger.info({ event: 'host_key_accepted', answer: 'timeout', target: `${target.host}:${target.port}`, fingerprint: k.fingerprint }, 'no answer to the host key question');
        reject(new BridgeError('HOST_KEY_REJECTED', `no answer within ${ms} ms`));
      }, ms);
      this.#hostKey = {
        answer: (accept) => {
          clearTimeout(timer);
          this.#hostKey = undefined;
          resolve(accept);
        },
        cancel: () => {
          clearTimeout(timer);
          this.#hostKey = undefined;
          reject(new BridgeError('CLIENT_CLOSED', 'closed during the host key question'));
        },
      };
      this.#init.send({ type: 'hostkey', host: target.host, port: target.port, algorithm: k.keyType, fingerprint: k.fingerprint, status: 'unknown', ...(target.hop === undefined ? {} : { hop: target.hop }) });
    });
  };

  /** Put one keyboard-interactive round to the client. */
  readonly askPrompt = (round: AuthPromptRound): Promise<string[]> => {
    if (this.#cancelled) return Promise.reject(new BridgeError('CLIENT_CLOSED', 'closed during authentication'));
    if (!this.#init.canAsk) return Promise.reject(new BridgeError('PROTOCOL_ERROR', 'keyboard-interactive needs a v1 client'));
    return new Promise<string[]>((resolve, reject) => {
      this.#prompt = {
        count: round.prompts.length,
        answer: (responses) => {
          this.#prompt = undefined;
          resolve(responses);
        },
        cancel: () => {
          this.#prompt = undefined;
          reject(new BridgeError('CLIENT_CLOSED', 'closed during authentication'));
        },
      };
      this.#init.logger.debug({ event: 'auth_prompt', prompts: round.prompts.length }, 'keyboard-interactive round sent to the client');
      this.#init.send({ type: 'prompt', ...round });
    });
  };

  /**
   * Route a client message while connecting: true when it was an answer (given to its waiter),
   * false for anything else. An answer with no question pending, or a wrong number of responses,
   * throws PROTOCOL_ERROR.
   */
  answer(msg: ClientMessage): boolean {
    if (msg.kind === 'prompt-reply') {
      const round = this.#prompt;
      if (round === undefined) throw new BridgeError('PROTOCOL_ERROR', 'unexpected prompt-reply');
      if (msg.responses.length !== round.count) throw new BridgeError('PROTOCOL_ERROR', `prompt-reply needs ${round.count} responses`);
      round.answer([...msg.responses]);
      return true;
    }
    if (msg.kind !== 'hostkey-reply') return false;
    const waiter = this.#hostKey;
    if (waiter === undefined) throw new BridgeError('PROTOCOL_ERROR', 'unexpected hostkey-reply');
    waiter.answer(msg.accept);
    return true;
  }

  /** The session is closing: release any waiter (the login is aborted already) and ask nothing more. Idempotent. */
  cancel(): void {
    this.#cancelled = true;
    this.#hostKey?.cancel();
    this.#prompt?.cancel();
  }
}
