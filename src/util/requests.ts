/**
 * Request maps: one typed table per concern, `name -> { args, result }`, from which both sides of
 * a call are typed. A caller holds a `Client` (ask and wait for the result, or tell and go on); the
 * side that decides implements an `Authority`, one function per name. `local()` joins the two in
 * one process; under `--workers` the cluster's RPC (src/cluster/rpc.ts) is the Client and the
 * primary answers with the same Authority. Adding a request is one entry in its map plus its
 * function in the Authority: the compiler finds every other place.
 *
 * A `void` result marks a request that is told, not asked: it has no answer, so the caller never
 * waits for it (a slot given back, a failed login counted).
 */

/** The constraint every request map meets (an interface works: no index signature is needed). */
export type RequestMap<M> = { readonly [K in keyof M]: { readonly args: unknown; readonly result: unknown } };

/** The names of `M` that answer. */
export type AskOp<M> = { [K in keyof M]: M[K] extends { result: void } ? never : K }[keyof M] & string;

/** The names of `M` that are only told. */
export type TellOp<M> = { [K in keyof M]: M[K] extends { result: void } ? K : never }[keyof M] & string;

/** The caller's side of a request map. */
export interface Client<M extends RequestMap<M>> {
  ask<K extends AskOp<M>>(op: K, args: M[K]['args']): Promise<M[K]['result']>;
  /** Fire and forget. */
  tell<K extends TellOp<M>>(op: K, args: M[K]['args']): void;
}

/**
 * The deciding side: one function per request, given who asks (`caller`). It answers in the same
 * step where it can, so a check and what it decides cannot be split by another request.
 */
export type Authority<M extends RequestMap<M>, C> = {
  readonly [K in keyof M]: (args: M[K]['args'], caller: C) => M[K]['result'] | Promise<M[K]['result']>;
};

/** A Client whose requests `authority` answers in this process, on behalf of `caller`. */
export function local<M extends RequestMap<M>, C>(authority: Authority<M, C>, caller: C): Client<M> {
  return {
    ask: (op, args) => Promise.resolve(authority[op](args, caller)),
    tell: (op, args) => {
      void authority[op](args, caller);
    },
  };
}
