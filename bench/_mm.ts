import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/trainer/backend';
(async () => {
  await initBackend('wasm');
  const time = (name: string, f: () => tf.Tensor, reps = 20) => {
    for (let i = 0; i < 3; i++) { const r = f(); r.dataSync(); r.dispose(); }
    const ts: number[] = [];
    for (let i = 0; i < reps; i++) { const t0 = performance.now(); const r = f(); r.dataSync(); ts.push(performance.now() - t0); r.dispose(); }
    ts.sort((a, b) => a - b);
    console.log(name.padEnd(40), ts[Math.floor(reps / 2)].toFixed(2), 'ms');
  };
  const a = tf.randomNormal([64, 4, 32, 32]);
  const b = tf.randomNormal([64, 4, 32, 32]);
  const a3 = tf.reshape(a, [256, 32, 32]) as tf.Tensor3D, b3 = tf.reshape(b, [256, 32, 32]) as tf.Tensor3D;
  for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]]) {
    time(`bmm 256x32x32 tA=${ta} tB=${tb}`, () => tf.matMul(a3, b3, ta, tb));
  }
  time('transpose 4d last2', () => tf.transpose(a, [0, 1, 3, 2]));
  const x = tf.randomNormal([2048, 128]);
  time('sum axis0 [2048,128]', () => tf.sum(x, 0));
  const ones = tf.ones([1, 2048]);
  time('ones@x [2048,128]', () => tf.matMul(ones, x));
  time('fresh ones@x', () => tf.tidy(() => tf.matMul(ones, tf.add(x, 0))));
  time('fresh add only', () => tf.add(x, 0));
  time('transpose [2048,128]', () => tf.transpose(x));
  const w = tf.randomNormal([128, 512]);
  time('x@w', () => tf.matMul(x, w));
  time('fresh x@w (w fresh)', () => tf.tidy(() => tf.matMul(x, tf.add(w, 0))));
  time('fresh add w', () => tf.add(w, 0));
  const xt = tf.randomNormal([128, 2048]);
  const dy = tf.randomNormal([2048, 512]);
  time('xT@dy (dy fixed)', () => tf.matMul(xt, dy));
  time('xT@dy fresh', () => tf.tidy(() => tf.matMul(xt, tf.add(dy, 0))));
  time('fresh add dy', () => tf.add(dy, 0));
  time('dyT@x fresh x', () => tf.tidy(() => tf.matMul(tf.transpose(dy), tf.add(x, 0))));
  const big = tf.randomNormal([2048, 512]);
  time('exp [2048,512]', () => tf.exp(big));
  time('erf [2048,512]', () => tf.erf(big));
  time('sigmoid [2048,512]', () => tf.sigmoid(big));
  time('mul [2048,512]', () => tf.mul(big, big));
  time('softmax [64,4,32,32]', () => tf.softmax(a));
})();
