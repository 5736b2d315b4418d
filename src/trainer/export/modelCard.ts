/**
 * The exported folder's README.md: a Hugging Face model card (YAML front matter + Markdown) that says
 * what was trained on what, with which losses (and their papers), how the chosen checkpoint scored at
 * every dim × precision, the frontier's recommended point (src/insights/frontier.ts) and how to load and
 * encode. Pure: facts in, text out.
 */
import type { LossConfig, RunConfig, SingleLossConfig } from '../../protocol/runConfig';
import { parsePrecisionKey, type ByDim, type Precision } from '../../protocol/runFolder';
import { bytesPerVector, describeFrontierAdvice, type FrontierAdvice } from '../../insights/frontier';

export interface ModelCardFacts {
  runId: string;
  config: RunConfig;
  dim: number;
  precision: Precision;
  checkpoint: { kind: 'best' | 'step'; step: number; metric?: string; value?: number };
  totalSteps?: number;
  /** The encoder's shape, as exported. */
  model: {
    hiddenSize: number;
    numLayers: number;
    numHeads: number;
    vocabSize: number;
    maxSeqLength: number;
    pooling: string;
    width: number;
  };
  /** A Hugging Face Hub id of the pretrained model, when known. */
  baseModel?: string;
  rows?: { train: number; evalQueries: number; evalCorpus: number };
  /** The eval line's byDim at the checkpoint's step; undefined when the run did not evaluate there. */
  byDim?: ByDim;
  advice: FrontierAdvice | null;
}

interface Paper {
  title: string;
  ref: string;
}

const MRL: Paper = { title: 'Matryoshka Representation Learning (Kusupati et al., 2022)', ref: 'https://arxiv.org/abs/2205.13147' };
const GRADCACHE: Paper = {
  title: 'Scaling Deep Contrastive Learning Batch Size under Memory Limited Setup (GradCache; Gao et al., 2021)',
  ref: 'https://arxiv.org/abs/2101.06983',
};
const MNRL: Paper = {
  title: 'Efficient Natural Language Response Suggestion for Smart Reply (Henderson et al., 2017)',
  ref: 'https://arxiv.org/abs/1705.00652',
};
const COSENT: Paper = { title: 'CoSENT (Su Jianlin, 2022)', ref: 'https://kexue.fm/archives/8847' };
const ANGLE: Paper = { title: 'AnglE-optimized Text Embeddings (Li & Li, 2023)', ref: 'https://arxiv.org/abs/2309.12871' };
const GIST: Paper = {
  title: 'GISTEmbed: Guided In-sample Selection of Training Negatives for Text Embedding Fine-tuning (Solatorio, 2024)',
  ref: 'https://arxiv.org/abs/2402.16829',
};

function basePapers(type: string): Paper[] {
  const cached = type.startsWith('Cached') ? [GRADCACHE] : [];
  if (type.includes('MultipleNegatives')) return [MNRL, ...cached];
  if (type.includes('GISTEmbed')) return [GIST, ...cached];
  if (type === 'CoSENTLoss') return [COSENT];
  if (type === 'AnglELoss') return [ANGLE, COSENT];
  return cached;
}

function describeSingle(l: SingleLossConfig): { text: string; papers: Paper[] } {
  if (l.type === 'MatryoshkaLoss') {
    const inner = describeSingle(l.loss);
    const per = l.nDimsPerStep > 0 ? `, ${l.nDimsPerStep} dims sampled per step` : '';
    return { text: `MatryoshkaLoss(${inner.text}, dims [${l.matryoshkaDims.join(', ')}]${per})`, papers: [MRL, ...inner.papers] };
  }
  const mb = 'miniBatchSize' in l ? `miniBatchSize ${l.miniBatchSize}` : '';
  const guide = 'guide' in l ? `guide ${l.guide}` : '';
  const args = [mb, guide].filter(Boolean).join(', ');
  return { text: `${l.type}${args ? `(${args})` : ''}`, papers: basePapers(l.type) };
}

export function describeLoss(loss: LossConfig): { text: string; papers: Paper[] } {
  const terms = Array.isArray(loss) ? loss.map((t) => ({ w: t.weight, d: describeSingle(t.loss) })) : [{ w: 1, d: describeSingle(loss) }];
  const text = terms.map((t) => (Array.isArray(loss) ? `${t.w} × ${t.d.text}` : t.d.text)).join(' + ');
  const seen = new Set<string>();
  const papers = terms.flatMap((t) => t.d.papers).filter((p) => !seen.has(p.ref) && seen.add(p.ref));
  return { text, papers };
}

/** A YAML scalar: JSON's double-quoted strings are valid YAML. */
const y = (s: string) => JSON.stringify(s);
const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(4));

const COLUMNS: { label: string; precision: Precision; rescore: boolean }[] = [
  { label: 'float32', precision: 'float32', rescore: false },
  { label: 'int8', precision: 'int8', rescore: false },
  { label: 'int8 + rescore', precision: 'int8', rescore: true },
  { label: 'binary', precision: 'binary', rescore: false },
  { label: 'binary + rescore', precision: 'binary', rescore: true },
];

/** The dim × precision table of one metric (columns that the eval line has), the exported row in bold. */
export function precisionTable(byDim: ByDim, metric: string, exportedDim: number): string {
  const cols = COLUMNS.filter((c) =>
    Object.values(byDim).some((m) =>
      Object.keys(m).some((k) => {
        const p = parsePrecisionKey(k);
        return p.metric === metric && p.precision === c.precision && p.rescore === c.rescore;
      }),
    ),
  );
  const dims = Object.keys(byDim)
    .map(Number)
    .filter((d) => Number.isInteger(d) && d > 0)
    .sort((a, b) => b - a);
  const key = (c: (typeof COLUMNS)[number]) =>
    c.precision === 'float32' ? metric : `${c.precision}${c.rescore ? '+rescore' : ''}:${metric}`;
  const head = `| dim | ${cols.map((c) => `${c.label} (bytes)`).join(' | ')} |`;
  const rule = `|---:|${cols.map(() => '---:').join('|')}|`;
  const rows = dims.map((d) => {
    const cells = cols.map((c) => `${fmt(byDim[String(d)]?.[key(c)])} (${bytesPerVector(d, c.precision)})`);
    const dimCell = d === exportedDim ? `**${d}** (exported)` : String(d);
    return `| ${dimCell} | ${cells.join(' | ')} |`;
  });
  return [head, rule, ...rows].join('\n');
}

function dataSources(c: RunConfig): string {
  const d = c.data;
  const train = `train: \`${d.train.source}\`${d.train.maxRows ? ` (at most ${d.train.maxRows} rows)` : ''}`;
  const ev = d.eval
    ? `eval: \`${d.eval.source}\``
    : `eval: ${Math.round(d.evalFraction * 100)} % of the train rows held out (seed ${c.seed})`;
  return `${train}; ${ev}`;
}

export function modelCard(f: ModelCardFacts): string {
  const c = f.config;
  const loss = describeLoss(c.loss);
  const wordnet = c.data.train.source === 'builtin:wordnet' && (!c.data.eval || c.data.eval.source === 'builtin:wordnet');
  const lossTags = [...new Set(describeLoss(c.loss).text.match(/[A-Za-z]+Loss/g) ?? [])].map((t) => `loss:${t}`);
  const front = [
    '---',
    'library_name: sentence-transformers',
    'pipeline_tag: sentence-similarity',
    'tags:',
    ...[
      'sentence-transformers',
      'sentence-similarity',
      'feature-extraction',
      'matryoshka',
      'matryoshka-lab',
      `dim-${f.dim}`,
      ...lossTags,
    ].map((t) => `- ${y(t)}`),
    ...(f.precision !== 'float32' ? [`- ${y(`quantization:${f.precision}`)}`] : []),
    ...(f.baseModel ? [`base_model: ${y(f.baseModel)}`] : []),
    ...(wordnet ? ['language:', '- en'] : []),
    `model_name: ${y(`${c.name} (dim ${f.dim})`)}`,
    '---',
  ];

  const m = f.model;
  const modelLine =
    'scratch' in c.model
      ? `a BERT encoder trained from scratch: ${m.numLayers} layer(s), hidden size ${m.hiddenSize}, ${m.numHeads} heads, a WordPiece vocabulary of ${m.vocabSize} learned from the training text, ${m.pooling} pooling, up to ${m.maxSeqLength} tokens${m.width !== m.hiddenSize ? `, projected to ${m.width}` : ''}`
      : `fine-tuned from ${f.baseModel ? `[${f.baseModel}](https://huggingface.co/${f.baseModel})` : `the local model \`${c.model.pretrained.path}\``}: ${m.numLayers} layer(s), hidden size ${m.hiddenSize}, ${m.pooling} pooling, up to ${m.maxSeqLength} tokens`;
  const ck = f.checkpoint;
  const ckLine =
    ck.kind === 'best'
      ? `the best checkpoint for dim ${f.dim} (step ${ck.step}${ck.metric ? `, ${ck.metric} ${fmt(ck.value)}` : ''})`
      : `the checkpoint at step ${ck.step}${f.totalSteps ? ` of ${f.totalSteps}` : ''}`;
  const t = c.training;

  const lines: string[] = [
    ...front,
    '',
    `# ${c.name} — Matryoshka embeddings at dim ${f.dim}`,
    '',
    `A [sentence-transformers](https://www.sbert.net) model exported by Matryoshka Lab from run \`${f.runId}\`, ${ckLine}. ` +
      `It maps text to **${f.dim}-dimensional**, L2-normalised embeddings (cosine similarity = dot product): the model's ${m.width}-dim output truncated to its first ${f.dim} components (a \`Dense\` module after pooling) and re-normalised (a \`Normalize\` module), so no \`truncate_dim\` is needed.`,
    '',
    '## Training',
    '',
    `- Model: ${modelLine}.`,
    `- Data: ${dataSources(c)}.${f.rows ? ` ${f.rows.train} training rows; evaluation on ${f.rows.evalQueries} queries against a corpus of ${f.rows.evalCorpus}.` : ''}`,
    `- Steps: ${ck.step}${f.totalSteps ? ` of ${f.totalSteps}` : ''}, batch size ${t.batchSize}, learning rate ${t.learningRate} (${t.scheduler}, ${t.warmupSteps} warm-up steps), seed ${c.seed}.`,
    `- Loss: \`${loss.text}\`.`,
    '',
    ...loss.papers.map((p) => `  - ${p.title}: ${p.ref}`),
    '',
    '## Evaluation at this checkpoint',
    '',
  ];
  const metric = f.advice?.metric;
  if (f.byDim && metric) {
    const hasQuantised = Object.values(f.byDim).some((v) => Object.keys(v).some((k) => parsePrecisionKey(k).precision !== 'float32'));
    lines.push(
      `${metric} on the run's eval set at step ${ck.step}, every Matryoshka dim × precision (bytes per vector in brackets)${hasQuantised ? '' : '; this run was evaluated at float32 only'}:`,
      '',
      precisionTable(f.byDim, metric, f.dim),
      '',
    );
    if (f.advice) {
      const p = f.advice.point;
      lines.push(
        `**Recommended point** (the cheapest in bytes per vector reaching ${f.advice.percent} % of full-dim float32): ${describeFrontierAdvice(f.advice)}.` +
          (p.dim === f.dim && p.precision === f.precision
            ? ' This export is that point.'
            : ` This export is ${f.precision} at dim ${f.dim}.`),
        '',
      );
    }
  } else {
    lines.push(
      `The run has no evaluation at step ${ck.step} (checkpoints and evaluations fall on different steps); see its metrics.jsonl for the nearest ones.`,
      '',
    );
  }
  lines.push(
    '## Usage',
    '',
    '```python',
    'from sentence_transformers import SentenceTransformer',
    '',
    'model = SentenceTransformer("DIR")  # this folder',
    'emb = model.encode(["a first sentence", "another one"])',
    `print(emb.shape)  # (2, ${f.dim}); rows have unit length`,
    'scores = emb @ emb.T  # cosine similarity',
  );
  if (f.precision === 'int8') {
    lines.push(
      '',
      '# int8: the calibration the evaluation used (quantization.json)',
      'import json, numpy as np',
      'from sentence_transformers.quantization import quantize_embeddings',
      'ranges = np.array(json.load(open("DIR/quantization.json"))["calibration"]["ranges"], dtype=np.float32)',
      'q = quantize_embeddings(emb, precision="int8", ranges=ranges)  # int8 [n, ' + f.dim + ']',
    );
  } else if (f.precision === 'binary') {
    lines.push(
      '',
      '# binary: one bit per component (x > 0), np.packbits order; score by Hamming distance',
      'from sentence_transformers.quantization import quantize_embeddings',
      `packed = quantize_embeddings(emb, precision="ubinary")  # uint8 [n, ${Math.ceil(f.dim / 8)}]`,
    );
  }
  lines.push('```', '');
  if (f.precision !== 'float32') {
    lines.push(
      `\`quantization.json\` holds the exact ${f.precision} recipe — ${f.precision === 'int8' ? "per-component calibration ranges (computed on the run's eval corpus embedded by this model), " : ''}the formula, the bit order and how to score — so that documents and queries are quantised the way the table above was measured.`,
      '',
    );
  }
  return lines.join('\n');
}
