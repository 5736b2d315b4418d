"""PyTorch peer of bench/bench.ts's trainStep case, for the ratio in the notes (not part of npm test).

Same reference model (vocab 8000, hidden 128, 2 post-LN BERT layers, 4 heads, FFN 512, seq len 32,
mean pooling), MNRL with scale 20 on cosine similarities, AdamW, batch 32 pairs = 64 sequences.
Run with Debian's torch:  OPENBLAS_NUM_THREADS=1 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \
    /usr/bin/python3 bench/torch_reference.py [--batch 32] [--threads 2] [--gradcache 32]
Prints one JSON line: {"msPerStep", "samplesPerSec", "steps", "peakRssMB"} (peakRssMB: the process's
maximum resident set, getrusage). --hidden/--layers/--heads/--ffn/--vocab/--seq give other shapes (bench.ts's
realSizes section: MiniLM-L6 --hidden 384 --layers 6 --heads 12 --ffn 1536 --vocab 30522 --seq 64, BERT-base
--hidden 768 --layers 12 --heads 12 --ffn 3072 --vocab 30522 --seq 64); --warmup the untimed steps first.
With --gradcache MB, the peer of bench.ts's gradCache pair: GradCache as sentence-transformers'
CachedMultipleNegativesRankingLoss runs it (no-grad forward of every mini-batch with its RNG state kept, the
loss on the detached embeddings, then each mini-batch again with the same dropout and the cached gradient),
alternating with the plain step in one process: {"cachedMsPerStep", "plainMsPerStep", "overhead"}.
"""
import argparse, json, resource, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, h, heads, ffn, p):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(h, h) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
        self.f1, self.f2 = nn.Linear(h, ffn), nn.Linear(ffn, h)
        self.drop = nn.Dropout(p)

    def forward(self, x, bias):
        n, l, h = x.shape
        split = lambda t: t.view(n, l, self.heads, h // self.heads).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        att = self.drop(torch.softmax(q @ k.transpose(-1, -2) / (h // self.heads) ** 0.5 + bias, -1))
        ctx = (att @ v).transpose(1, 2).reshape(n, l, h)
        x = self.ln1(x + self.drop(self.o(ctx)))
        return self.ln2(x + self.drop(self.f2(F.gelu(self.f1(x)))))


class Encoder(nn.Module):
    def __init__(self, vocab=8000, h=128, layers=2, heads=4, ffn=512, maxlen=512, p=0.1):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, h), nn.Embedding(maxlen, h)
        self.ln = nn.LayerNorm(h, eps=1e-12)
        self.drop = nn.Dropout(p)
        self.blocks = nn.ModuleList(Block(h, heads, ffn, p) for _ in range(layers))

    def forward(self, ids, mask):
        x = self.drop(self.ln(self.tok(ids) + self.pos(torch.arange(ids.shape[1]))))
        bias = (1.0 - mask[:, None, None, :]) * -1e9
        for b in self.blocks:
            x = b(x, bias)
        m = mask[..., None]
        return (x * m).sum(1) / m.sum(1).clamp(min=1e-9)


def mnrl(emb, batch):
    emb = F.normalize(emb, dim=-1)
    return F.cross_entropy(20 * emb[:batch] @ emb[batch:].T, torch.arange(batch))


def cached_backward(model, ids, mask, batch, mb):
    """GradCache's three steps; leaves the parameter gradients in .grad, as loss.backward() would."""
    bounds = [(s, min(s + mb, ids.shape[0])) for s in range(0, ids.shape[0], mb)]
    states, reps = [], []
    with torch.no_grad():
        for s, e in bounds:
            states.append(torch.get_rng_state())
            reps.append(model(ids[s:e], mask[s:e]))
    reps = torch.cat(reps).requires_grad_()
    mnrl(reps, batch).backward()
    for (s, e), state in zip(bounds, states):
        torch.set_rng_state(state)  # the same dropout masks as in the no-grad pass
        model(ids[s:e], mask[s:e]).backward(reps.grad[s:e])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=7)
    ap.add_argument("--gradcache", type=int, default=0, help="mini-batch size: time GradCache against the plain step")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=512)
    ap.add_argument("--seq", type=int, default=32)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Encoder(vocab=a.vocab, h=a.hidden, layers=a.layers, heads=a.heads, ffn=a.ffn)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)

    def step(cached):
        ids = torch.randint(5, a.vocab, (2 * a.batch, a.seq))
        mask = torch.ones(2 * a.batch, a.seq)
        t0 = time.perf_counter()
        opt.zero_grad()
        if cached:
            cached_backward(model, ids, mask, a.batch, a.gradcache)
        else:
            mnrl(model(ids, mask), a.batch).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return (time.perf_counter() - t0) * 1000

    if a.gradcache:
        cached, plain = [], []
        for i in range(a.warmup + a.steps):
            for c in ((True, False) if i % 2 == 0 else (False, True)):
                ms = step(c)
                if i >= a.warmup:
                    (cached if c else plain).append(ms)
        c, p = statistics.median(cached), statistics.median(plain)
        print(json.dumps({"cachedMsPerStep": c, "plainMsPerStep": p, "overhead": c / p - 1, "miniBatchSize": a.gradcache, "threads": a.threads}))
        return
    times = [step(False) for _ in range(a.warmup + a.steps)][a.warmup:]
    ms = statistics.median(times)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(json.dumps({"msPerStep": ms, "samplesPerSec": 1000 * a.batch / ms, "steps": times, "peakRssMB": peak, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
