/**
 * Interop with a real OpenSSH sshd started by the harness: the whole path a seed client or the
 * page takes, against the server people actually run. Fails (never skips) under CI=true when
 * sshd is missing.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { TEST_PROMPT } from '../helpers/sshd.js';
import { useSshdBridge } from '../helpers/sshd-bridge.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';

const V1 = 'webssh-bridge.v1';
const BANNER = 'uwsb test banner: authorized use only';
const WRONG = 'definitely-Wrong-pw-9';

void describe('real OpenSSH sshd', () => {
  // host key policy: test/integration/hostkeys.test.ts
  const fx = useSshdBridge(['--host-key-policy', 'accept-new-insecure'], { banner: `${BANNER}\n` });
  const ready = (t: TestContext): boolean => fx.ready(t);

  async function login(): Promise<TestWs> {
    const ws = await openWs(fx.url);
    ws.sendJson({ username: fx.sshd?.username, password: fx.sshd?.password });
    await ws.waitForOutput(TEST_PROMPT, 15_000);
    return ws;
  }

  /** Run a shell command and wait for a marker the command line itself does not contain. */
  async function runCmd(ws: TestWs, cmd: string, tag: string): Promise<string> {
    const before = ws.output().length;
    ws.sendText(`${cmd}; echo "@@${tag}""-done@@"\r`);
    await ws.waitForOutput(`@@${tag}-done@@`, 15_000);
    return ws.output().slice(before);
  }

  void it('logs in, runs a command on the target, sees the banner; exit gives 1000 with the status', async (t) => {
    if (!ready(t)) return;
    const ws = await login();
    assert.ok(ws.output().includes(BANNER), 'seed mode writes the pre-auth banner to the terminal');
    const out = await runCmd(ws, 'echo "user=$(id -un) sum=$((6*7))"', 'who');
    assert.match(out, /user=uwsbtest sum=42/);
    ws.sendText('exit 7\r');
    const closed = await ws.closed;
    assert.equal(closed.code, 1000);
    assert.equal(closed.reason, 'SHELL_EXITED: shell exited: exit status 7');
  });

  void it('resize reaches the PTY (stty size); an invalid resize is ignored and input keeps flowing', async (t) => {
    if (!ready(t)) return;
    const ws = await login();
    ws.sendText(JSON.stringify({ action: 'resize', cols: 132, rows: 41 }));
    assert.match(await runCmd(ws, 'stty size', 'sz1'), /41 132/);
    ws.sendText(JSON.stringify({ action: 'resize', cols: 0, rows: 41 }));
    ws.sendText(JSON.stringify({ action: 'resize', cols: 99999, rows: 41 }));
    assert.match(await runCmd(ws, 'stty size', 'sz2'), /41 132/);
    ws.close();
  });

  void it('a 5000-byte paste arrives byte-exact; JSON-looking text is typed', async (t) => {
    if (!ready(t)) return;
    const ws = await login();
    const paste = Array.from({ length: 5000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const digest = createHash('sha256').update(paste).digest('hex');
    ws.sendText("stty -icanon -echo; head -c 5000 | sha256sum; stty sane\r");
    await new Promise((r) => setTimeout(r, 300)); // let stty take effect before the paste
    ws.sendText(paste);
    await ws.waitForOutput(digest, 15_000);
    const json = await runCmd(ws, 'echo X{"a":1}Y', 'json');
    assert.match(json, /X\{a:1\}Y/);
    ws.sendText('{"action":"other"}');
    ws.sendText('\x15'); // Ctrl-U clears the typed line
    ws.close();
  });

  void it('wrong password closes 4001', async (t) => {
    if (!ready(t)) return;
    const ws = await openWs(fx.url);
    ws.sendJson({ username: fx.sshd?.username, password: WRONG });
    const closed = await ws.closed;
    assert.equal(closed.code, 4001);
  });

  void it('v1: banner message, ready, sized PTY, exit message', async (t) => {
    if (!ready(t)) return;
    const ws = await openWs(fx.url, { protocol: V1 });
    ws.sendJson({ type: 'auth', username: fx.sshd?.username, password: fx.sshd?.password, cols: 100, rows: 33 });
    await ws.waitForControl((m) => (m as { type?: string }).type === 'ready', 15_000);
    const banner = ws.controls().find((m) => (m as { type?: string }).type === 'banner') as { message: string } | undefined;
    assert.ok(banner?.message.includes(BANNER));
    await ws.waitForOutput(TEST_PROMPT);
    ws.sendBinary(Buffer.from('stty size; echo $TERM\r'));
    await ws.waitForOutput(/33 100\r\nxterm-256color/);
    ws.sendBinary(Buffer.from('exit 3\r'));
    assert.equal((await ws.closed).code, 1000);
    assert.deepEqual(ws.controls().at(-1), { type: 'exit', status: 3, signal: null });
  });

  void it('browser disconnect: the remote shell is gone within a second', async (t) => {
    const sshd = fx.sshd;
    if (!ready(t) || sshd === undefined) return;
    const ws = await login();
    const before = (await sshd.userProcesses()).length;
    ws.sendText('sleep 1000\r'); // a foreground job: the session is busy when the tab vanishes
    const deadline = Date.now() + 10_000;
    while ((await sshd.userProcesses()).length <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok((await sshd.userProcesses()).length > before, 'sleep running on the target');
    const cut = Date.now();
    ws.terminate();
    let left = await sshd.userProcesses();
    while (left.length > 0 && Date.now() - cut < 5000) {
      await new Promise((r) => setTimeout(r, 50));
      left = await sshd.userProcesses();
    }
    assert.deepEqual(left, [], `processes left: ${left.join(',')}\n${sshd.log().slice(-2000)}`);
    t.diagnostic(`remote shell gone ${Date.now() - cut} ms after the socket was cut`);
  });

  void it('no password ever reaches the logs', (t) => {
    const { bridge, sshd } = fx;
    if (!ready(t) || bridge === undefined || sshd === undefined) return;
    const text = bridge.logText();
    assert.ok(text.includes('session_start') && text.includes('session_end'), 'audit events logged');
    assert.ok(!text.includes(sshd.password));
    assert.ok(!text.includes(WRONG));
  });
});
