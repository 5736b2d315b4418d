// Test-only extension: the end-to-end tests drop `<n>.req.json` ({command, args}) into the folder named
// by MRL_E2E_RPC_DIR; this runs `vscode.commands.executeCommand(command, ...args)` — the way another
// extension or a keybinding calls Matryoshka Lab — and writes `<n>.res.json` ({ok, result} | {ok, error}).
// `{"$uri": "/abs/path"}` in args becomes a vscode.Uri. No UI: no quick pick, nothing to click.
const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');

function revive(v) {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === 'object') {
    if (typeof v.$uri === 'string') return vscode.Uri.file(v.$uri);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]));
  }
  return v;
}

function plain(v) {
  try {
    return v === undefined ? null : JSON.parse(JSON.stringify(v));
  } catch {
    return String(v);
  }
}

exports.activate = function activate(ctx) {
  const dir = process.env.MRL_E2E_RPC_DIR;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  const taken = new Set();
  const tick = () => {
    let names = [];
    try {
      names = fs.readdirSync(dir).filter((n) => n.endsWith('.req.json') && !taken.has(n));
    } catch {
      return;
    }
    for (const n of names) {
      taken.add(n);
      let req;
      try {
        req = JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8'));
        fs.rmSync(path.join(dir, n)); // taken: a reloaded window must not run it again
      } catch {
        taken.delete(n); // being written: next tick
        continue;
      }
      const done = (res) => {
        const out = path.join(dir, n.replace(/\.req\.json$/, '.res.json'));
        fs.writeFileSync(out + '.tmp', JSON.stringify(res));
        fs.renameSync(out + '.tmp', out);
      };
      Promise.resolve()
        .then(() => vscode.commands.executeCommand(req.command, ...revive(req.args ?? [])))
        .then(
          (result) => done({ ok: true, result: plain(result) }),
          (e) => done({ ok: false, error: String((e && e.stack) || e) }),
        );
    }
  };
  const timer = setInterval(tick, 100);
  ctx.subscriptions.push({ dispose: () => clearInterval(timer) });
  fs.writeFileSync(path.join(dir, 'ready'), String(process.pid));
};
