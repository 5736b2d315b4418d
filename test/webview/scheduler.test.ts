// The frame scheduler (webview/app/scheduler.ts) in Node, on a fake clock and fake animation frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BURST_DRAW_INTERVAL_MS, FrameScheduler, MRL_LIVE_INTERVAL_MS, type Dirty, type FrameEnv } from '../../webview/app/scheduler';

function fakeEnv() {
  let now = 1000;
  let frames: (() => void)[] = [];
  const timers = new Map<number, { at: number; cb: () => void }>();
  let nextId = 1;
  const env: FrameEnv = {
    requestFrame: (cb) => void frames.push(cb),
    now: () => now,
    setTimer: (cb, ms) => {
      timers.set(nextId, { at: now + ms, cb });
      return nextId++;
    },
    clearTimer: (id) => void timers.delete(id),
  };
  return {
    env,
    timers,
    pendingFrames: () => frames.length,
    /** Run the frames requested so far (as the browser would, once each). */
    frame(): void {
      const f = frames;
      frames = [];
      for (const cb of f) cb();
    },
    advance(ms: number): void {
      now += ms;
      for (const [id, t] of [...timers])
        if (t.at <= now) {
          timers.delete(id);
          t.cb();
        }
    },
  };
}

/** What each draw saw (a snapshot: the scheduler clears the dirty set after the frame). */
function recordingDraw(onDraw?: (d: Dirty) => void) {
  const draws: { structural: boolean; view: boolean; mrl: boolean; runs: boolean; diff: boolean; metrics: string[] }[] = [];
  const draw = (d: Dirty) => {
    draws.push({ structural: d.structural, view: d.view, mrl: d.mrl, runs: d.runs, diff: d.diff, metrics: [...d.metrics].sort() });
    onDraw?.(d);
  };
  return { draws, draw };
}

test('changes between two frames are drawn once, together; nothing is drawn without a change', () => {
  const f = fakeEnv();
  const { draws, draw } = recordingDraw();
  const s = new FrameScheduler(draw, () => assert.fail('no error expected'), f.env);
  s.schedule({ runs: true });
  s.schedule({ metrics: ['train/loss'] });
  s.schedule({ metrics: ['eval/ndcg@10', 'train/loss'], diff: true });
  assert.equal(f.pendingFrames(), 1, 'one animation frame requested');
  f.frame();
  assert.deepEqual(draws, [
    { structural: false, view: false, mrl: false, runs: true, diff: true, metrics: ['eval/ndcg@10', 'train/loss'] },
  ]);
  assert.equal(s.stats.frames, 1);
  f.frame();
  assert.equal(draws.length, 1);
  s.schedule({ view: true });
  f.frame();
  assert.deepEqual(draws[1], { structural: false, view: true, mrl: false, runs: false, diff: false, metrics: [] });
});

test('a draw that throws is reported, and the next change still draws', () => {
  const f = fakeEnv();
  const errors: unknown[] = [];
  let fail = true;
  const s = new FrameScheduler(
    () => {
      if (fail) throw new Error('boom');
    },
    (e) => errors.push(e),
    f.env,
  );
  s.schedule({ structural: true });
  f.frame();
  assert.equal((errors[0] as Error).message, 'boom');
  fail = false;
  s.schedule({ structural: true });
  f.frame();
  assert.equal(errors.length, 1);
  assert.equal(s.stats.frames, 2);
});

test('message→drawn time counts from the first pending message of the frame', () => {
  const f = fakeEnv();
  const s = new FrameScheduler(
    () => f.advance(3),
    () => undefined,
    f.env,
  );
  const seen: number[] = [];
  const off = s.onDrawn((i) => seen.push(i.messageToDrawnMs));
  s.markPending();
  f.advance(5);
  s.markPending(); // later messages do not restart the clock
  s.schedule({ metrics: ['train/loss'] });
  f.frame();
  assert.equal(s.stats.lastMessageToDrawnMs, 8);
  assert.equal(s.stats.lastFlushMs, 3);
  assert.deepEqual(seen, [8]);
  off();
  s.schedule({ view: true });
  f.frame();
  assert.equal(seen.length, 1, 'unsubscribed');
  assert.equal(s.stats.lastMessageToDrawnMs, 8, 'a frame without a message keeps the last figure');
});

test('live MRL updates: at most one per interval, the rest deferred to a timer; settle() draws at once', async () => {
  const f = fakeEnv();
  let mrlDraws = 0;
  let s!: FrameScheduler;
  const draw = (d: Dirty) => {
    if (d.metrics.size) d.mrlData = true;
    if (d.mrl || (d.mrlData && s.mrlLiveDue())) {
      s.noteMrlDrawn();
      mrlDraws++;
    }
  };
  s = new FrameScheduler(draw, () => undefined, f.env);
  s.schedule({ metrics: ['eval/ndcg@10'] });
  f.frame();
  assert.equal(mrlDraws, 1, 'the first update draws');
  f.advance(10);
  s.schedule({ metrics: ['eval/ndcg@10'] });
  f.frame();
  assert.equal(mrlDraws, 1, 'too soon: deferred');
  assert.equal(f.timers.size, 1);
  s.schedule({ metrics: ['eval/ndcg@10'] });
  f.frame();
  assert.equal(f.timers.size, 1, 'one timer, not one per update');
  f.advance(MRL_LIVE_INTERVAL_MS);
  f.frame();
  assert.equal(mrlDraws, 2, 'the timer asked for the redraw');
  // a user action (mrl: true) is never deferred
  s.schedule({ mrl: true });
  f.frame();
  assert.equal(mrlDraws, 3);
  // settle(): a deferred update is drawn in the very next frame, then the promise resolves
  f.advance(1);
  s.schedule({ metrics: ['eval/ndcg@10'] });
  f.frame();
  assert.equal(f.timers.size, 1);
  let settled = false;
  const p = s.settle().then(() => {
    settled = true;
  });
  assert.equal(f.timers.size, 0, 'the timer is cancelled');
  f.frame();
  await p;
  assert.ok(settled);
  assert.equal(mrlDraws, 4);
});

test('settle() with nothing to draw still resolves after a frame', async () => {
  const f = fakeEnv();
  const { draws, draw } = recordingDraw();
  const s = new FrameScheduler(draw, () => undefined, f.env);
  let done = false;
  const p = s.settle().then(() => {
    done = true;
  });
  await Promise.resolve();
  assert.equal(done, false);
  f.frame();
  await p;
  assert.ok(done);
  assert.equal(draws.length, 1);
});

test('during a burst of replays charts are drawn at most every BURST_DRAW_INTERVAL_MS, the rest every frame; the burst end and settle() draw at once', async () => {
  const f = fakeEnv();
  const { draws, draw } = recordingDraw();
  let burst = true;
  const s = new FrameScheduler(
    draw,
    () => assert.fail('no error expected'),
    f.env,
    () => burst,
  );
  // the burst starts (init asked for runs): its chips are drawn, its charts wait
  s.schedule({ structural: true, runs: true });
  f.frame();
  assert.deepEqual(draws, [{ structural: false, view: false, mrl: false, runs: true, diff: false, metrics: [] }]);
  assert.equal(s.stats.heldFrames, 1);
  // replays meanwhile: nothing more is drawn until the interval has passed
  f.advance(100);
  s.schedule({ structural: true, metrics: ['train/loss'] });
  f.frame();
  assert.equal(draws.length, 1, 'a held frame with no other work draws nothing');
  f.advance(BURST_DRAW_INTERVAL_MS - 100);
  assert.equal(f.pendingFrames(), 1, 'the interval timer asks for a frame');
  f.frame();
  assert.deepEqual(draws[1], { structural: true, view: false, mrl: false, runs: false, diff: false, metrics: ['train/loss'] });
  assert.deepEqual(s.stats.burstChartFrameTimes, [1000 + BURST_DRAW_INTERVAL_MS]);
  // the next replay, 20 ms after that pass: held again, for an interval after the pass
  f.advance(20);
  s.schedule({ metrics: ['eval/ndcg@10'], runs: true });
  f.frame();
  assert.deepEqual(draws[2], { structural: false, view: false, mrl: false, runs: true, diff: false, metrics: [] });
  // the last replay arrives: the burst is over, the charts are drawn in the very next frame
  f.advance(10);
  burst = false;
  s.schedule({ structural: true });
  f.frame();
  assert.deepEqual(draws[3], { structural: true, view: false, mrl: false, runs: false, diff: false, metrics: ['eval/ndcg@10'] });
  // outside a burst every frame draws its charts
  s.schedule({ metrics: ['train/loss'] });
  f.frame();
  assert.deepEqual(draws[4].metrics, ['train/loss']);
  // a settle() caller gets everything at once, burst or not
  burst = true;
  s.schedule({ metrics: ['train/loss'] });
  f.frame();
  assert.equal(draws.length, 5, 'a new burst holds its first chart pass');
  const settled = s.settle();
  f.frame();
  await settled;
  assert.deepEqual(draws[5].metrics, ['train/loss']);
  assert.equal(s.stats.chartFrames, 4);
  assert.equal(s.stats.heldFrames, 4);
});
