// What a run will take and has left, as text (src/insights/runTime.ts): the trainer's warm-up estimate in
// log.txt and the start notification, elapsed / remaining in the runs view.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateText, formatBytes, formatDuration, formatStepTime, runEstimate, runTimes, runTimesText } from '../../src/insights/runTime';

test('durations, step times and sizes at the precision a person plans with', () => {
  assert.equal(formatDuration(0.4), '0 s');
  assert.equal(formatDuration(45), '45 s');
  assert.equal(formatDuration(59.6), '1 min');
  assert.equal(formatDuration(1120), '19 min');
  assert.equal(formatDuration(2 * 3600 + 5 * 60), '2 h 05 min');
  assert.equal(formatDuration(3 * 86400 + 4 * 3600), '3 d 4 h');
  assert.equal(formatDuration(NaN), '?');
  assert.equal(formatStepTime(1.4), '1.4 s');
  assert.equal(formatStepTime(0.3512), '0.35 s');
  assert.equal(formatStepTime(12.4), '12 s');
  assert.equal(formatBytes(2.6 * 2 ** 30), '2.6 GB');
  assert.equal(formatBytes(740 * 2 ** 20), '740 MB');
});

test("the warm-up's estimate: time per step, for the run, and memory", () => {
  assert.equal(
    estimateText({ secondsPerStep: 1.4, steps: 800, memoryBytes: 2.6 * 2 ** 30 }),
    '≈ 1.4 s/step, ≈ 19 min for 800 steps, ≈ 2.6 GB',
  );
  assert.equal(estimateText({ secondsPerStep: 6.1, steps: 1, memoryBytes: 3.6 * 2 ** 30 }), '≈ 6.1 s/step, ≈ 6 s for 1 step, ≈ 3.6 GB');
  // run.json comes from anywhere: a malformed estimate is no estimate.
  assert.equal(runEstimate({ estimate: { secondsPerStep: '1', steps: 3, memoryBytes: 1 } as never }), undefined);
  assert.equal(runEstimate({ estimate: { secondsPerStep: -1, steps: 3, memoryBytes: 1 } }), undefined);
  assert.deepEqual(runEstimate({ estimate: { secondsPerStep: 1, steps: 3, memoryBytes: 5 } }), {
    secondsPerStep: 1,
    steps: 3,
    memoryBytes: 5,
  });
});

test('elapsed and remaining: from the last write, extrapolated to now, never below zero', () => {
  const now = 1_000_000;
  const info = { step: 40, totalSteps: 100, elapsedSeconds: 120, secondsPerStep: 3, progressAt: now - 10_000 };
  assert.deepEqual(runTimes(info, now), { elapsed: 130, remaining: 170 });
  assert.equal(runTimesText(info, now), '2 min elapsed · ≈ 3 min left');
  // Long past the expected end (a slow evaluation): none left rather than a negative time.
  assert.deepEqual(runTimes(info, now + 3_600_000), { elapsed: 3730, remaining: 0 });
  // Before the trainer wrote its pace: the estimate alone; with neither, nothing.
  assert.deepEqual(runTimes({ step: 0, totalSteps: 100, estimate: { secondsPerStep: 2, steps: 100, memoryBytes: 1 } }, now), {
    elapsed: 0,
    remaining: 200,
  });
  assert.equal(runTimesText({ step: 3, totalSteps: 100 }, now), '');
});
