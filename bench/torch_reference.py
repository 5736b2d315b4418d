"""PyTorch peer of bench/bench.ts's trainStep case, for the ratio in the notes (not part of npm test).

Same reference model (vocab 8000, hidden 128, 2 post-LN BERT layers, 4 heads, FFN 512, seq len 32,
mean pooling), MNRL with scale 20 on cosine similarities, AdamW, batch 32 pairs = 64 sequences.
Run with Debian's torch:  OPENBLAS_NUM_THREADS=1 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \
    /usr/bin/python3 bench/torch_reference.py [--batch 32] [--threads 2]
Prints one JSON line: {"msPerStep", "samplesPerSec", "steps"}.
"""
import argparse, json, statistics, time
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=7)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Encoder()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    times = []
    for i in range(2 + a.steps):
        ids = torch.randint(5, 8000, (2 * a.batch, 32))
        mask = torch.ones(2 * a.batch, 32)
        t0 = time.perf_counter()
        emb = F.normalize(model(ids, mask), dim=-1)
        anchors, positives = emb[: a.batch], emb[a.batch:]
        loss = F.cross_entropy(20 * anchors @ positives.T, torch.arange(a.batch))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if i >= 2:
            times.append((time.perf_counter() - t0) * 1000)
    ms = statistics.median(times)
    print(json.dumps({"msPerStep": ms, "samplesPerSec": 1000 * a.batch / ms, "steps": times, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
