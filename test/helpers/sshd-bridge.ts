/**
 * The usual fixture of a real-sshd suite: one OpenSSH sshd and one in-process bridge in front of
 * it for the whole `describe`, started in `before` and stopped in `after` (call inside the
 * describe callback). `ready(t)` fails under CI=true and skips loudly elsewhere when sshd is
 * missing (helpers/require.ts).
 */
import { after, before, type TestContext } from 'node:test';
import { startBridge, type BridgeHandle } from './bridge.js';
import { requireOrSkip, sshdAvailable } from './require.js';
import { startSshd, type SshdHandle, type SshdOptions } from './sshd.js';

export interface SshdBridge {
  readonly sshd: SshdHandle | undefined;
  readonly bridge: BridgeHandle | undefined;
  /** The bridge's WebSocket URL for the sshd. */
  readonly url: string;
  ready(t: TestContext): boolean;
}

export function useSshdBridge(flags: readonly string[], sshdOpts: SshdOptions = {}): SshdBridge {
  const state: { sshd: SshdHandle | undefined; bridge: BridgeHandle | undefined; url: string } = { sshd: undefined, bridge: undefined, url: '' };
  before(async () => {
    if (!sshdAvailable()) return;
    state.sshd = await startSshd(sshdOpts);
    state.bridge = await startBridge(flags);
    state.url = `${state.bridge.wsBase}/ws/127.0.0.1/${state.sshd.port}`;
  });
  after(async () => {
    await state.bridge?.close();
    await state.sshd?.stop();
  });
  return {
    get sshd() { return state.sshd; },
    get bridge() { return state.bridge; },
    get url() { return state.url; },
    ready: (t) => requireOrSkip(t, 'OpenSSH sshd', sshdAvailable() && state.sshd !== undefined, 'apt-get install openssh-server'),
  };
}
