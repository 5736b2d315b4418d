/**
 * A backward pass that frees memory as it goes, in place of tfjs' `engine.gradients`.
 *
 * tfjs walks the tape backwards and keeps, until the whole backward has finished, every gradient it
 * computed (one tensor per op output on the path: as large as all of the forward's activations) and
 * every tensor the forward saved for the backward. On the encoders people fine-tune that was ~10× the
 * activations the backward actually needs at once (docs/performance.md#memory-per-wasm-heap): a MiniLM-L6
 * step on 16 sequences of 64 tokens grew one wasm heap to 1.9 GB.
 *
 * This walk computes the same gradients in the same order (so the numbers are bit for bit those of
 * tfjs' walk), but as soon as a node's input gradients are computed it disposes
 *   - the gradients of the node's outputs (each output's gradient is consumed by its producer only), and
 *   - the tensors the node saved for its backward (no other node reads them),
 * except what the caller gets back (the gradients of `xs`) or owns (a `dy` it passed). Peak memory is then
 * the saved activations plus one op's working set, as in PyTorch's autograd.
 *
 * It replaces the method on the engine instance that every gradient API goes through (variableGrads,
 * grad(s), valueAndGrad(s), customGrad, engine().gradients). Nested gradients (a tape inside a tape:
 * higher-order derivatives, which the trainer does not use) keep tfjs' own walk, since the outer tape may
 * still need what this walk would free.
 */
import * as tf from '@tensorflow/tfjs-core';
import { wasmAddInPlace } from './kernels/wasmKernels';

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
}

/** The parts of tfjs' Engine this walk uses (all public at run time; the typings hide the state). */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  startTape(): void;
  endTape(): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
  gradients(
    f: () => tf.Tensor,
    xs: tf.Tensor[],
    dy?: tf.Tensor,
    allowNoGradients?: boolean,
  ): { value: tf.Tensor; grads: Array<tf.Tensor | undefined> };
}

/**
 * The nodes on a path from some x to y, in tape order, each with its inputs restricted to those that
 * depend on an x (the others get no gradient): the same selection as tfjs' own.
 */
export function nodesFromXToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodeFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      nodeFromX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set<number>([y.id]);
  const nodeToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => toY.has(o.id))) {
      nodeToY.add(node.id);
      for (const t of Object.values(node.inputs)) toY.add(t.id);
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!nodeFromX.has(node.id) || !nodeToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(node.inputs)) if (fromX.has(t.id)) inputs[name] = t;
    out.push({ ...node, inputs });
  }
  return out;
}

/** Reference counts of the tensors held as some tensor's gradient (one tensor may be the gradient of two). */
export class HeldGrads {
  private readonly byId = new Map<number, tf.Tensor>();
  private readonly holds = new Map<tf.Tensor, number>();
  get(id: number): tf.Tensor | undefined {
    return this.byId.get(id);
  }
  set(id: number, t: tf.Tensor): void {
    this.take(id);
    this.byId.set(id, t);
    this.holds.set(t, (this.holds.get(t) ?? 0) + 1);
  }
  /** Stops holding the gradient of `id`; returns it when nothing else holds that tensor. */
  take(id: number): tf.Tensor | undefined {
    const t = this.byId.get(id);
    if (!t) return undefined;
    this.byId.delete(id);
    const n = (this.holds.get(t) ?? 1) - 1;
    if (n > 0) {
      this.holds.set(t, n);
      return undefined;
    }
    this.holds.delete(t);
    return t;
  }
  holdsTensor(t: tf.Tensor): boolean {
    return this.holds.has(t);
  }
  /** Whether `t` is the gradient of exactly one tensor (so it may be added into). */
  holdsOnce(t: tf.Tensor): boolean {
    return this.holds.get(t) === 1;
  }
}

/**
 * Back-propagates through `nodes` (from nodesFromXToY), freeing each node's output gradients and saved
 * tensors once its input gradients exist. `grads` holds y's gradient on entry and the xs' on return.
 * `keep` are tensors this walk must never dispose (the caller's dy).
 */
export function backpropagateFreeing(
  nodes: TapeNode[],
  grads: HeldGrads,
  xIds: Set<number>,
  keep: Set<tf.Tensor>,
  tidy: EngineInternals['tidy'],
): void {
  const disposable = (t: tf.Tensor) => !t.kept && !keep.has(t) && !grads.holdsTensor(t);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    const names = Object.keys(node.inputs);
    // One tidy around the node's whole gradient: a customGrad's gradFunc runs inside node.gradient
    // itself, outside the per-input tidies, so its intermediates would otherwise live to the end.
    const dxs = tidy(() => {
      const inputGrads = node.gradient!(node.outputs.map((o) => grads.get(o.id) ?? null));
      return names.map((name) => {
        if (!(name in inputGrads)) {
          throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(inputGrads)}.`);
        }
        return inputGrads[name]();
      });
    });
    const spent: tf.Tensor[] = [];
    for (let k = 0; k < names.length; k++) {
      const name = names[k];
      const x = node.inputs[name];
      const dx = dxs[k];
      if (dx.dtype !== 'float32') {
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`,
        );
      }
      if (dx.shape.length !== x.shape.length || dx.shape.some((d, j) => d !== x.shape[j])) {
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
        );
      }
      const prev = grads.get(x.id);
      if (!prev) {
        grads.set(x.id, dx);
        continue;
      }
      // An x's gradient (a parameter's, or the accumulator a caller seeded, variableGradsInto) is added
      // into its own buffer when nothing else holds it: no second model-sized set of gradients.
      if (xIds.has(x.id) && !prev.kept && !keep.has(prev) && grads.holdsOnce(prev) && wasmAddInPlace(prev, dx)) {
        spent.push(dx);
        continue;
      }
      grads.set(x.id, tf.add(prev, dx));
      if (disposable(prev)) prev.dispose();
      spent.push(dx);
    }
    // Only now: one gradient function may hand the same tensor to two inputs.
    for (const dx of spent) if (!dx.isDisposed && disposable(dx)) dx.dispose();
    for (const o of node.outputs) {
      if (xIds.has(o.id)) continue;
      const g = grads.take(o.id);
      if (g && disposable(g)) g.dispose();
    }
    for (const t of node.saved ?? []) if (!grads.holdsTensor(t)) t.dispose();
  }
}

let installed = false;
let stockWalk = false;

/**
 * Runs `f` with tfjs' own walk (the baseline a test or benchmark compares with), then the freeing one again.
 */
export function withStockBackward<T>(f: () => T): T {
  const was = stockWalk;
  stockWalk = true;
  try {
    return f();
  } finally {
    stockWalk = was;
  }
}

/**
 * The forward under a tape and the freeing walk; `seeds` (by x id) start some xs' gradients at the
 * caller's tensors, which the walk adds into (and returns, or their replacements).
 */
function leanGradients(
  engine: EngineInternals,
  f: () => tf.Tensor,
  xs: tf.Tensor[],
  dy: tf.Tensor | undefined | null,
  allowNoGradients: boolean,
  seeds?: Map<number, tf.Tensor>,
): { value: tf.Tensor; grads: Array<tf.Tensor | undefined> } {
  if (xs.length === 0) throw new Error('gradients() received an empty list of xs.');
  if (dy !== undefined && dy !== null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', f),
  );
  if (!(y instanceof tf.Tensor)) throw new Error('The result y returned by f() must be a tensor.');
  const tape = engine.state.activeTape ?? [];
  const nodes = nodesFromXToY(tape, xs, y);
  if (!allowNoGradients && nodes.length === 0) {
    throw new Error(
      'Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.',
    );
  }
  return engine.tidy('backward', () => {
    const grads = new HeldGrads();
    for (const [id, t] of seeds ?? []) grads.set(id, t);
    grads.set(y.id, dy ?? tf.ones(y.shape));
    const xIds = new Set(xs.map((x) => x.id));
    try {
      backpropagateFreeing(nodes, grads, xIds, new Set(dy ? [dy] : []), engine.tidy.bind(engine));
      return { value: y, grads: xs.map((x) => grads.get(x.id)) } as unknown as tf.TensorContainer;
    } finally {
      // What the walk did not free (nodes off the path, or all of them after an error).
      for (const node of tape) for (const t of node.saved ?? []) t.dispose();
      engine.state.activeTape = null;
    }
  }) as unknown as { value: tf.Tensor; grads: Array<tf.Tensor | undefined> };
}

/** Puts the freeing walk in place of the engine's `gradients` (idempotent; the engine is global). */
export function installLeanBackward(): void {
  if (installed) return;
  const engine = tf.engine() as unknown as EngineInternals;
  const stock = engine.gradients.bind(engine);
  engine.gradients = (f, xs, dy, allowNoGradients = false) =>
    // A tape inside a tape: the outer one may still need what this walk frees.
    stockWalk || engine.state.gradientDepth > 0 ? stock(f, xs, dy, allowNoGradients) : leanGradients(engine, f, xs, dy, allowNoGradients);
  installed = true;
}

/**
 * acc[v] += ∂f/∂v for every variable f reaches, the gradients added into acc's tensors as the backward
 * produces them (in place on wasm with our kernels) instead of coming back as a second set beside acc:
 * GradCache's per-chunk backward then holds one set of gradients, not two. Replaced tensors are disposed.
 * False (and nothing done) where the freeing walk is not in use: the caller accumulates itself.
 */
export function variableGradsInto(f: () => tf.Scalar, variables: tf.Variable[], acc: Map<tf.Variable, tf.Tensor>): boolean {
  const engine = tf.engine() as unknown as EngineInternals;
  if (!installed || stockWalk || engine.state.gradientDepth > 0) return false;
  const seeds = new Map<number, tf.Tensor>();
  for (const v of variables) {
    const a = acc.get(v);
    if (a) seeds.set(v.id, a);
  }
  const { value, grads } = leanGradients(engine, f, variables, undefined, true, seeds);
  value.dispose();
  variables.forEach((v, i) => {
    const g = grads[i];
    if (g) acc.set(v, g);
  });
  return true;
}
