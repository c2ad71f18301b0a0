/**
 * One `Relay` (src/http/relay.ts) from the two ways a request reaches the process holding its
 * session: another worker of this node over its Unix socket (./resume-relay.ts, under
 * `--workers`), another node over mutual TLS (./node-relay.ts, with `--node-relay-address`).
 * The roles build it; either part may be absent.
 */
import type { Keyring } from '../auth/keyring.js';
import type { Config } from '../config/types.js';
import { workerOwner, type OwnerId } from '../grammar/owner-id.js';
import type { Relay, RelayListener } from '../http/relay.js';
import type { Logger } from '../log.js';
import { loadRelayMaterial, NodeRelay } from './node-relay.js';

export function joinRelays(self: OwnerId, worker: Relay | undefined, node: NodeRelay | undefined): Relay {
  return {
    self: worker?.self ?? self,
    pass: (owner, req, socket, head, facts, onFail) => {
      if (worker === undefined) onFail();
      else worker.pass(owner, req, socket, head, facts, onFail);
    },
    passRequest: (owner, req, res, facts, onFail) => {
      if (worker === undefined) onFail();
      else worker.passRequest(owner, req, res, facts, onFail);
    },
    ...(node === undefined ? {} : {
      passNode: (address, owner, req, socket, head, facts, onFail) => node.pass(address, owner, req, socket, head, facts, onFail),
      passNodeRequest: (address, owner, req, res, facts, onFail) => node.passRequest(address, owner, req, res, facts, onFail),
    }),
    facts: (req) => node?.facts(req) ?? worker?.facts(req) ?? null,
    ...(node === undefined ? {} : { stats: () => node.stats() }),
    listen: async (onUpgrade, onRequest) => {
      const listeners: RelayListener[] = [];
      try {
        if (worker !== undefined) listeners.push(await worker.listen(onUpgrade, onRequest));
        if (node !== undefined) listeners.push(await node.listen(onUpgrade, onRequest));
      } catch (err) {
        for (const l of listeners) l.close();
        throw err;
      }
      return {
        address: listeners.find((l) => l.address !== undefined)?.address,
        close: () => {
          for (const l of listeners) l.close();
        },
      };
    },
  };
}

/**
 * The relay of a process of this node: `worker` (its Unix-socket relay under `--workers`) joined
 * with the relay between nodes when `--node-relay-address` is set, whose files are read now (a
 * file that cannot be read throws, which stops the start). `keyring`: the App's, read at each
 * use (it signs and checks the relayed facts). Undefined when there is neither.
 */
export function processRelay(config: Config, node: string | null, worker: Relay | undefined, keyring: () => Keyring, logger: Logger): Relay | undefined {
  const listen = config.nodeRelayAddress;
  if (listen === null) return worker;
  const relay = new NodeRelay(listen, loadRelayMaterial(config), keyring, logger);
  return joinRelays(workerOwner(0, node), worker, relay);
}
