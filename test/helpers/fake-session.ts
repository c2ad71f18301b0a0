/** The usual fixture of an integration test: an in-process SSH server and a bridge in front of it. */
import type { TestContext } from 'node:test';
import { startBridge, type BridgeHandle } from './bridge.js';
import { startFakeSsh, FAKE_PROMPT, type FakeSshHandle } from './ssh-server.js';
import { openWs, type TestWs } from './ws-client.js';

export interface FakeSetup {
  readonly ssh: FakeSshHandle;
  readonly bridge: BridgeHandle;
  /** The bridge's WebSocket URL for the fake server. */
  readonly url: string;
}

/**
 * Start both, closed by `t.after`. The fake server makes a new host key every start, so the
 * bridge runs with `--host-key-policy accept-new-insecure` (a test's own flags come later and win).
 */
export async function setupFake(t: TestContext, flags: string[] = [], sshOpts: Parameters<typeof startFakeSsh>[0] = {}): Promise<FakeSetup> {
  const ssh = await startFakeSsh(sshOpts);
  t.after(() => ssh.close());
  const bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', ...flags]);
  t.after(() => bridge.close());
  return { ssh, bridge, url: `${bridge.wsBase}/ws/127.0.0.1/${ssh.port}` };
}

/** Open a seed-mode session and wait for the fake shell's prompt. */
export async function seedLogin(url: string, ssh: FakeSshHandle): Promise<TestWs> {
  const ws = await openWs(url);
  ws.sendJson({ username: ssh.username, password: ssh.password });
  await ws.waitForOutput(FAKE_PROMPT);
  return ws;
}
