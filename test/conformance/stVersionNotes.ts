// The README's "what works, warns and refuses" per sentence-transformers version range, generated from the API
// recorded from the library's source (fixtures/sentenceTransformers/signatures.json) and the generator's own
// version rules (requiredVersion), so that it cannot drift: stApi.test.ts compares it with the README section
// between the markers; `npm run st-versions` rewrites that section.
import { readFileSync, writeFileSync } from 'node:fs';
import { MODULES_MOVED, requiredVersion, SYMMETRIC_RENAMED, versionAtLeast } from '../../src/engines/sentenceTransformers/script';
import { asST, example, type Fixture, loadFixture, recordedVersions, resolved } from './stApi';

export const README_BEGIN =
  '<!-- st-versions:begin — generated from test/conformance/fixtures/sentenceTransformers/signatures.json by `npm run st-versions`; edit the generator, not this text -->';
export const README_END = '<!-- st-versions:end -->';

/** The configs whose needs differ by version: what each asks for, and from which release. */
function features(): { what: string; need: string }[] {
  const gist = (extra: Record<string, unknown>) =>
    asST({ ...example('quickstart.mrl.json'), loss: { type: 'CachedGISTEmbedLoss', guide: 'self', miniBatchSize: 16, ...extra } });
  return [
    { what: 'GIST `marginStrategy` / `margin` away from the defaults', json: gist({ marginStrategy: 'relative', margin: 0.05 }) },
    { what: 'GIST `contrastAnchors` / `contrastPositives: false`', json: gist({ contrastAnchors: false }) },
    {
      what: '`devices` > 1 with in-batch negatives (`gather_across_devices`)',
      json: { ...asST(example('quickstart.mrl.json')), devices: 2 },
    },
  ].map((f) => ({ what: f.what, need: requiredVersion(resolved(f.json)).version }));
}

const code = (s: string) => `\`${s}\``;

export function renderVersionNotes(fx: Fixture = loadFixture()): string {
  const versions = recordedVersions(fx);
  const feats = features();
  const lines: string[] = [];
  versions.forEach((v, i) => {
    const rec = fx.sentenceTransformers[v];
    const next = versions[i + 1];
    const tf = Object.keys(fx.transformers).filter((t) => {
      const spec = rec.requires.transformers ?? '';
      return spec.split(',').every((p) => {
        const m = /^(>=|<)([\d.]+)$/.exec(p.trim());
        return !m || (m[1] === '>=' ? versionAtLeast(t, m[2]) : !versionAtLeast(t, m[2]));
      });
    });
    const cls = rec.classes;
    const pooling = cls.Pooling!.init!.params[0];
    const moved = versionAtLeast(v, MODULES_MOVED);
    const symmetric = cls.CachedMultipleNegativesSymmetricRankingLoss!.deprecated;
    const range = next ? `${v} ≤ version < ${next}` : `${v} and later 6.x`;
    const works = feats.filter((f) => versionAtLeast(v, f.need)).map((f) => f.what);
    const refuses = feats.filter((f) => !versionAtLeast(v, f.need)).map((f) => `${f.what} (needs ≥ ${f.need})`);
    lines.push(
      `- **${range}** (recorded: ${rec.source.replace('sentence-transformers repository, ', '')}; transformers ${rec.requires.transformers}, checked against ${tf.join(', ')}).`,
      `  Works: every loss type, bare or in \`MatryoshkaLoss\`; an \`InformationRetrievalEvaluator\` / \`EmbeddingSimilarityEvaluator\` per dim; \`quantize_embeddings\` for the int8 / binary grid; \`pooling\` (the width read as ${code(`Pooling.${pooling}`)})` +
        (works.length ? `; ${works.join('; ')}` : '') +
        '.',
      `  Warns: nothing from \`train.py\` — ` +
        (moved
          ? `it imports ${code('sentence_transformers.sentence_transformer.losses')}, ${code('….evaluation')}, ${code('….modules')}, ${code('….training_args')} (${code('sentence_transformers.losses')} and the other old paths only redirect with a DeprecationWarning here)`
          : `it imports ${code('sentence_transformers.losses')}, ${code('.evaluation')}, ${code('.models')}, ${code('.training_args')}`) +
        (symmetric
          ? `; the symmetric losses are deprecated here, so it builds them as ${code('(Cached)MultipleNegativesRankingLoss(…, directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction")')}, the replacement their deprecation names`
          : versionAtLeast(SYMMETRIC_RENAMED, v)
            ? '; the symmetric losses are built under their own names'
            : '') +
        '.',
      `  Refuses (exit 2 before anything is written, naming the version needed): ${refuses.length ? refuses.join('; ') : 'nothing the schema allows'}.`,
    );
  });
  return [
    `Older than ${versions[0]}: refused. Each range below was read from the library's source at the release named (and checked on every example config and loss type by \`test/conformance/stApi.test.ts\`); releases between two recorded ones are taken to behave as the older one.`,
    '',
    ...lines,
  ].join('\n');
}

export function readmeSection(readme: string): string | undefined {
  const a = readme.indexOf(README_BEGIN);
  const b = readme.indexOf(README_END);
  if (a < 0 || b < a) return undefined;
  return readme.slice(a + README_BEGIN.length, b).trim();
}

// `npm run st-versions`: rewrite the README section.
if (process.argv[1]?.endsWith('stVersionNotes.ts') && process.argv.includes('--write')) {
  const readme = readFileSync('README.md', 'utf8');
  const a = readme.indexOf(README_BEGIN);
  const b = readme.indexOf(README_END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${README_BEGIN} … ${README_END} section`);
  writeFileSync('README.md', readme.slice(0, a + README_BEGIN.length) + '\n\n' + renderVersionNotes() + '\n\n' + readme.slice(b));
  process.stdout.write('README.md: sentence-transformers version notes rewritten\n');
}
