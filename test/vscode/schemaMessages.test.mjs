// What VS Code's own JSON language service says of a *.mrl.json (it validates our schema through
// contributes.jsonValidation), next to what we say (issue 21 §5). The real server, from the code-server
// the end-to-end tests install, driven over LSP on stdio: no browser, no .vsix, a few seconds.
//   - its messages never contradict ours: no `Value must be "CachedMultipleNegativesRankingLoss"` for a
//     misspelt loss type (one of eight), a parameter named as the loss type's;
//   - each of its diagnostics (a warning: its fixed severity for schema problems) sits on one of our
//     errors, so what Start Run refuses is an error in Problems;
//   - the examples are clean for it, and completion offers each loss type its own parameters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDiagnostics, rangesMeet } from '../../src/config/diagnostics.ts';
import { validateText } from '../../src/host/configEditor/validateAdapter.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVER = path.join(
  ROOT,
  'test/vscode/node_modules/code-server/lib/vscode/extensions/json-language-features/server/dist/node/jsonServerMain.js',
);
const missing = fs.existsSync(SERVER) ? false : 'code-server is not installed (bash test/vscode/setup.sh)';
const SCHEMA = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas/run-config.schema.json'), 'utf8'));
const WARNING = 2; // LSP DiagnosticSeverity

/** A JSON language server on stdio, configured as VS Code configures it for our fileMatch. */
class JsonServer {
  constructor() {
    this.proc = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.buf = Buffer.alloc(0);
    this.id = 0;
    this.pending = new Map();
    this.waiting = new Map();
    this.docs = 0;
    this.proc.stdout.on('data', (d) => this.receive(d));
  }
  send(msg) {
    const s = JSON.stringify({ jsonrpc: '2.0', ...msg });
    this.proc.stdin.write(`Content-Length: ${Buffer.byteLength(s)}\r\n\r\n${s}`);
  }
  receive(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const h = this.buf.indexOf('\r\n\r\n');
      if (h < 0) return;
      const len = Number(/Content-Length: (\d+)/i.exec(this.buf.subarray(0, h).toString())[1]);
      if (this.buf.length < h + 4 + len) return;
      const msg = JSON.parse(this.buf.subarray(h + 4, h + 4 + len).toString());
      this.buf = this.buf.subarray(h + 4 + len);
      if (msg.method && msg.id !== undefined) {
        // the server asks the client (configuration, registrations): nothing to add
        this.send({ id: msg.id, result: msg.method === 'workspace/configuration' ? msg.params.items.map(() => null) : null });
      } else if (msg.id !== undefined) {
        this.pending.get(msg.id)?.(msg.result);
        this.pending.delete(msg.id);
      } else if (msg.method === 'textDocument/publishDiagnostics') {
        this.waiting.get(msg.params.uri)?.(msg.params.diagnostics);
        this.waiting.delete(msg.params.uri);
      }
    }
  }
  request(method, params) {
    return new Promise((resolve) => {
      const id = ++this.id;
      this.pending.set(id, resolve);
      this.send({ id, method, params });
    });
  }
  async start() {
    await this.request('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: { textDocument: { completion: { completionItem: { snippetSupport: true } } } },
      initializationOptions: { handledSchemaProtocols: ['file'] },
    });
    this.send({ method: 'initialized', params: {} });
    const schemas = [{ fileMatch: ['*.mrl.json'], url: 'file:///schemas/run-config.schema.json', schema: SCHEMA }];
    this.send({ method: 'workspace/didChangeConfiguration', params: { settings: { json: { validate: { enable: true }, schemas } } } });
  }
  /** Opens `text` as a new *.mrl.json (jsonc, as VS Code opens it) → its diagnostics and its uri. */
  async open(text) {
    const uri = `file:///ws/doc-${++this.docs}.mrl.json`;
    const diags = new Promise((resolve) => this.waiting.set(uri, resolve));
    this.send({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'jsonc', version: 1, text } } });
    return { uri, diagnostics: await diags };
  }
  async completion(text, offset) {
    const { uri } = await this.open(text);
    const before = text.slice(0, offset).split('\n');
    const position = { line: before.length - 1, character: before.at(-1).length };
    const r = await this.request('textDocument/completion', { textDocument: { uri }, position });
    return (r.items ?? r).map((i) => i.label);
  }
  stop() {
    this.proc.kill();
  }
}

let server;
const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'mrl-schema-messages-'));
before(async () => {
  if (missing) return;
  server = new JsonServer();
  await server.start();
});
after(() => {
  server?.stop();
  fs.rmSync(ws, { recursive: true, force: true });
});

/** Both sides for one text: VS Code's diagnostics and ours (as the editor publishes them). */
async function both(text) {
  const { diagnostics } = await server.open(text);
  const ours = configDiagnostics(text, validateText(text, path.join(ws, 'edit.mrl.json'), [ws]).errors);
  return { theirs: diagnostics, ours };
}

/** Every diagnostic of the language service sits on an error of ours, and none says "Value must be". */
function agree({ theirs, ours }) {
  for (const d of theirs) {
    assert.equal(d.severity, WARNING, `${d.message}: the language service warns (its severity for schema problems)`);
    assert.doesNotMatch(d.message, /^Value must be /, 'an enum of one: the misleading message of issue 21');
    const mine = ours.filter((o) => o.severity === 'error' && rangesMeet(o.range, d.range));
    assert.ok(mine.length, `"${d.message}" has no error of ours at ${JSON.stringify(d.range)}: ${JSON.stringify(ours)}`);
  }
}

const USER_CONFIG = `{
  "name": "user",
  "data": { "train": { "source": "./missing-train.jsonl" }, "eval": { "source": "./missing-eval.jsonl" } },
  "loss": { "type": "MatryoshkaLoss", "loss": { "type": "CachedMNRL", "miniBatchSize": "16" }, "matryoshkaDims": [64, 32] },
  "sweep": { "method": "grid", "parameters": { "training.learnRate": [0.001, 0.0005] } }
}`;

test(
  "issue 21's config: the language service names all eight loss types and the integer; ours are errors there, and more",
  { skip: missing },
  async () => {
    const r = await both(USER_CONFIG);
    agree(r);
    assert.equal(r.theirs.length, 2, JSON.stringify(r.theirs));
    const [type, mini] = [...r.theirs].sort((a, b) => a.range.start.character - b.range.start.character);
    assert.match(
      type.message,
      /^Value is not accepted\. Valid values: "MultipleNegativesRankingLoss", "CachedMultipleNegativesRankingLoss",.*"AnglELoss"\.$/,
    );
    assert.equal(type.message.match(/"[A-Za-z]+Loss"/g).length, 8);
    assert.equal(mini.message, 'Incorrect type. Expected "integer".');
    // What only we can tell: the did-you-mean, the missing files, the sweep path.
    assert.ok(r.ours.some((d) => /did you mean "CachedMultipleNegativesRankingLoss"/.test(d.message)));
    assert.equal(r.ours.filter((d) => d.kind === 'missingFile').length, 2);
    assert.ok(r.ours.some((d) => d.path === '/sweep/parameters/training.learnRate'));
  },
);

test('loss parameters: what the language service says agrees with what we say, case by case', { skip: missing }, async () => {
  const cases = [
    // a parameter of another loss type
    [
      `{ "loss": { "type": "MultipleNegativesRankingLoss", "miniBatchSize": 8 } }`,
      /^MultipleNegativesRankingLoss takes "scale" \(and "type"\)$/,
    ],
    // a parameter of the wrapped loss, on MatryoshkaLoss; MatryoshkaLoss inside MatryoshkaLoss
    [
      `{ "loss": { "type": "MatryoshkaLoss", "miniBatchSize": 8, "loss": { "type": "MatryoshkaLoss" } } }`,
      /^MatryoshkaLoss takes "loss", "matryoshkaDims", "matryoshkaWeights", "nDimsPerStep" \(and "type"\)$|^Value is not accepted\. Valid values: "MultipleNegativesRankingLoss"/,
    ],
    // a misspelt key
    [`{ "loss": { "type": "CoSENTLoss", "scael": 4 } }`, /^CoSENTLoss takes "scale" \(and "type"\)$|^Property scael is not allowed\.$/],
    // an unknown type in a weighted term, and a parameter of the wrong type beside it
    [
      `{ "loss": [{ "weight": 1, "loss": { "type": "Nope", "scale": "x" } }] }`,
      /^Value is not accepted\. Valid values: "MatryoshkaLoss", |^Incorrect type\. Expected "number"\.$/,
    ],
    // a string where an integer goes, the type right
    [`{ "loss": { "type": "CachedMultipleNegativesRankingLoss", "miniBatchSize": "16" } }`, /^Incorrect type\. Expected "integer"\.$/],
    [`{ "loss": { "type": "CachedGISTEmbedLoss", "miniBatchSize": 0 } }`, /^Value is below the minimum of 1\.$/],
  ];
  for (const [text, message] of cases) {
    const r = await both(text);
    assert.ok(r.theirs.length > 0, text);
    for (const d of r.theirs) assert.match(d.message, message, text);
    agree(r);
  }
  // A right config: nothing from either side.
  const ok = await both(
    `{ "loss": { "type": "MatryoshkaLoss", "loss": { "type": "CachedGISTEmbedLoss", "guide": "self", "miniBatchSize": 8 }, "matryoshkaDims": [8] } }`,
  );
  assert.deepEqual(ok.theirs, []);
  assert.deepEqual(ok.ours, []);
});

test('every shipped example is clean for the language service', { skip: missing }, async () => {
  for (const f of fs.readdirSync(path.join(ROOT, 'examples')).filter((x) => x.endsWith('.mrl.json'))) {
    const { diagnostics } = await server.open(fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8'));
    assert.deepEqual(diagnostics, [], f);
  }
});

test('completion offers each loss type its own parameters, and every loss type for "type"', { skip: missing }, async () => {
  const inside = (type) => {
    const text = `{ "loss": { "type": "${type}",  } }`;
    return server.completion(text, text.indexOf(',  }') + 2);
  };
  assert.deepEqual(await inside('MultipleNegativesRankingLoss'), ['scale']);
  assert.deepEqual((await inside('CachedMultipleNegativesRankingLoss')).sort(), ['miniBatchSize', 'scale']);
  assert.deepEqual((await inside('MatryoshkaLoss')).sort(), ['loss', 'matryoshkaDims', 'matryoshkaWeights', 'nDimsPerStep']);
  const types = await server.completion(`{ "loss": { "type": "" } }`, `{ "loss": { "type": "`.length);
  assert.equal(types.length, 9, types.join());
});
