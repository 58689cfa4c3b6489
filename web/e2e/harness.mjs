// Test harness for the browser tests: runs bin/roomcast on free ports with
// a fresh data directory, talks to its API, publishes with ffmpeg, and
// launches the system Chromium. Every process it starts is killed in
// stopAll(), which the tests call in after() and on signals.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
export const bin = path.join(repo, 'bin/roomcast');
export const shots = path.join(repo, 'test-results/web');
export const PASSWORD = 'web-test-password';

const children = new Set();
const cleanups = [];

function track(child, name) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.name = name;
  return child;
}

/** Kills every process started here and removes temporary directories. */
export async function stopAll() {
  const waits = [...children].map((c) => new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
    c.once('exit', () => { clearTimeout(timer); resolve(); });
    c.kill('SIGTERM');
  }));
  await Promise.all(waits);
  while (cleanups.length) {
    try { await cleanups.pop()(); } catch { /* best effort */ }
  }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => { void stopAll().finally(() => process.exit(130)); });
}
process.once('exit', () => { for (const c of children) c.kill('SIGKILL'); });

function requireTool(name, p) {
  const r = spawnSync('sh', ['-c', `command -v ${name}`]);
  if (r.status !== 0 && !existsSync(p ?? '')) {
    throw new Error(`${name} is required by the browser tests but was not found (scripts/install-test-deps.sh installs it)`);
  }
}

/** Starts roomcast; resolves with its URLs once it printed its banner.
 * extra are more serve flags. */
export async function startServer({ grace = '2s', extra = [] } = {}) {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run make build first`);
  requireTool('ffmpeg');
  const dir = mkdtempSync(path.join(tmpdir(), 'roomcast-web-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const common = ['-data', dir, '-password-cost', '4'];
  const add = spawnSync(bin, ['user', 'add', 'root', '--admin', '--password', PASSWORD, ...common], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`roomcast user add failed: ${add.stderr}${add.stdout}`);
  const args = ['serve', ...common, '-rtmp-addr', '127.0.0.1:0', '-http-addr', '127.0.0.1:0',
    '-auth-rate-limit', '1000', '-reconnect-grace', grace, '-hls-segment-duration', '1s', '-log-level', 'info', ...extra];
  const proc = track(spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] }), 'roomcast');
  let out = '';
  const logs = [];
  proc.stdout.on('data', (b) => { out += b; logs.push(String(b)); });
  proc.stderr.on('data', (b) => logs.push(String(b)));
  const started = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('roomcast did not start in 15 s:\n' + logs.join(''))), 15000);
    proc.on('exit', (code) => reject(new Error(`roomcast exited with ${code}:\n` + logs.join(''))));
    const check = () => {
      const http = /API:\s+(http:\/\/[^/\s]+)\/api\/v1\//.exec(out);
      const rtmp = /publish:\s+(rtmp:\/\/[^/\s]+)\//.exec(out);
      if (http && rtmp) { clearTimeout(timer); resolve({ http: http[1], rtmp: rtmp[1] }); }
    };
    proc.stdout.on('data', check);
    check();
  });
  return { ...started, dir, proc, logs };
}

/** A small REST client for the test's own setup and checks. */
export function client(base) {
  const call = async (method, p, token, body) => {
    const res = await fetch(base + '/api/v1' + p, {
      method,
      headers: { ...(token ? { Authorization: 'Bearer ' + token } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    call,
    register: (name) => call('POST', '/auth/register', '', { name, password: PASSWORD }),
    login: (name) => call('POST', '/auth/login', '', { name, password: PASSWORD }),
  };
}

/** Publishes a test pattern to url with ffmpeg until killed. */
export function publish(url) {
  const args = ['-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '25', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-f', 'flv', url];
  const p = track(spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] }), 'ffmpeg');
  p.errors = '';
  p.stderr.on('data', (b) => (p.errors += b));
  return p;
}

/** Polls f until it returns a truthy value or timeout ms pass. */
export async function until(what, f, timeout = 20000, every = 200) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Launches the system Chromium headless. Playwright gives it a fresh
 * temporary profile; each newContext() is isolated (its own storage). */
export async function launch() {
  const exe = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(exe)) throw new Error(`${exe} is missing (scripts/install-test-deps.sh installs chromium)`);
  const browser = await chromium.launch({
    executablePath: exe,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic', '--autoplay-policy=no-user-gesture-required'],
  });
  cleanups.push(() => browser.close());
  // Every page of every context reports Content-Security-Policy violations
  // to cspViolations, which the tests check: the app must work under the
  // server's policy, not merely load.
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args) => {
    const ctx = await newContext(...args);
    await ctx.exposeBinding('__roomcastCSPViolation', ({ page }, v) => cspViolations.push({ page: page.url(), ...v }));
    await ctx.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__roomcastCSPViolation({ directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber });
      });
    });
    return ctx;
  };
  return browser;
}

/** Content-Security-Policy violations reported by the pages of launch()'s
 * browser: { page, directive, blocked, source, line }. */
export const cspViolations = [];

export function shotPath(name) {
  mkdirSync(shots, { recursive: true });
  return path.join(shots, name + '.png');
}
