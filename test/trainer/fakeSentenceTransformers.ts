// A stand-in for sentence-transformers and its training dependencies, enough for a generated train.py
// to import, build its objects and "train": every name is a permissive class (any call, any attribute),
// except SentenceTransformerTrainer, whose train() drives the real callback
// (python/matryoshka_lab_callback.py) through steps the way transformers' Trainer does, until the
// callback asks it to stop (SIGTERM). It prints "training" at step 3 and "saved: <should_save>" at the end.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ANY = `
class _Meta(type):
    def __getattr__(cls, name):
        return _Any()


class _Any(metaclass=_Meta):
    def __init__(self, *a, **k):
        pass

    def __call__(self, *a, **k):
        return _Any()

    def __getattr__(self, name):
        return _Any()

    def __iter__(self):
        return iter(())


def __getattr__(name):
    return _Any
`;

const TRAINER = `
import time
import types


class SentenceTransformerTrainer:
    def __init__(self, model=None, args=None, callbacks=(), **kwargs):
        self.callbacks = list(callbacks)
        self.state = types.SimpleNamespace(global_step=2, max_steps=10**6, epoch=0.0, is_world_process_zero=True)

    def train(self, resume_from_checkpoint=None):
        control = types.SimpleNamespace(should_training_stop=False, should_save=False)
        for cb in self.callbacks:
            cb.on_train_begin(None, self.state, control)
        while not control.should_training_stop:
            time.sleep(0.02)  # one training step
            self.state.global_step += 1
            for cb in self.callbacks:
                cb.on_step_end(None, self.state, control)
            if self.state.global_step == 3:
                print("training", flush=True)
        for cb in self.callbacks:
            cb.on_train_end(None, self.state, control)
        print("saved:", control.should_save, flush=True)

    def evaluate(self):
        pass

    def is_world_process_zero(self):
        return True
`;

/** A folder for PYTHONPATH holding the stand-in packages (inside `root`). */
export function fakeTrainingStack(root: string): string {
  const d = mkdtempSync(join(root, 'fake-stack-'));
  const pkg = (name: string, version: string, extra = ANY) => {
    mkdirSync(join(d, name));
    writeFileSync(join(d, name, '__init__.py'), `__version__ = ${JSON.stringify(version)}\n${extra}`);
  };
  pkg('sentence_transformers', '5.1.0', TRAINER + ANY);
  for (const sub of ['evaluation', 'training_args', 'quantization', 'models'])
    writeFileSync(join(d, 'sentence_transformers', `${sub}.py`), ANY);
  // Plain: the interpreter probe asks torch.cuda.device_count() and must find no CUDA.
  pkg('torch', '2.5.0', '');
  pkg('transformers', '4.57.0');
  pkg('datasets', '3.0.0');
  pkg('accelerate', '1.0.0');
  pkg('numpy', '2.0.0');
  return d;
}
