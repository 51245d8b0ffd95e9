"""A sparse-embedding optimizer where each row keeps its own step count (lazy, per-row schedules).

Rows of an embedding table are touched only when their ids appear in a batch. Each row has its own
update counter ``row_steps[i]``; rows that are rarely seen stay early in their schedule (warmup, then a
high LR) instead of following the global step. Each step the optimizer gathers the touched rows' counts
and evaluates ``schedule(row_steps[ids], out=lr_buffer[:k])``: one int64 step per row, written in place
into a preallocated float32 torch buffer.

Run: ``python examples/sparse_embedding_rows.py``; prints ``OK: ...`` and exits 0.
"""

from __future__ import annotations

import numpy as np
import torch

import fastlr

N_ROWS, DIM, BATCH, STEPS = 1000, 16, 64, 300
torch.manual_seed(0)
torch.set_num_threads(1)  # tiny tensors: threads only add overhead (and contention on small machines)
rng = np.random.default_rng(0)


class RowwiseScheduledSGD:
    """SGD on a sparse gradient where row ``i`` uses ``schedule(row_steps[i])``."""

    def __init__(self, table: torch.Tensor, schedule: fastlr.Schedule):
        self.table = table
        self.schedule = schedule
        self.row_steps = torch.zeros(table.shape[0], dtype=torch.int64)
        self.lr_buffer = torch.empty(table.shape[0], dtype=table.dtype)   # allocated once
        self.step_buffer = torch.empty(table.shape[0], dtype=torch.int64)

    @torch.no_grad()
    def step(self, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.coalesce()
        ids = grad.indices()[0]
        k = ids.numel()
        steps = self.step_buffer[:k]
        torch.index_select(self.row_steps, 0, ids, out=steps)
        lrs = self.lr_buffer[:k]                     # a contiguous prefix: a valid out= buffer
        self.schedule(steps, out=lrs)                # per-row LRs, written in place
        self.table.index_add_(0, ids, grad.values() * -lrs[:, None])
        self.row_steps[ids] += 1
        return lrs


# targets: each row should learn a fixed random vector
target = torch.randn(N_ROWS, DIM)
embedding = torch.nn.Embedding(N_ROWS, DIM, sparse=True)
torch.nn.init.zeros_(embedding.weight)
schedule = fastlr.WarmupCosine(peak_lr=0.5, total_steps=60, warmup_steps=5, min_lr=0.05)
optimizer = RowwiseScheduledSGD(embedding.weight.data, schedule)

# Zipf-like ids: a few rows are hot, most are rare
popularity = 1.0 / np.arange(1, N_ROWS + 1)
popularity /= popularity.sum()
start = torch.nn.functional.mse_loss(embedding.weight, target).item()
pointer = optimizer.lr_buffer.data_ptr()
for _ in range(STEPS):
    ids = torch.from_numpy(np.unique(rng.choice(N_ROWS, size=BATCH, p=popularity)))
    embedding.zero_grad()
    loss = 0.5 * (embedding(ids) - target[ids]).square().sum()
    loss.backward()
    steps_before = optimizer.row_steps[ids].clone()
    lrs = optimizer.step(embedding.weight.grad)
    assert optimizer.lr_buffer.data_ptr() == pointer
    # every row got the LR of its own step count
    expected = schedule(steps_before.numpy()).astype(np.float32)
    assert np.array_equal(lrs.numpy(), expected)

seen = optimizer.row_steps > 0
end = torch.nn.functional.mse_loss(embedding.weight[seen], target[seen]).item()
start_seen = target[seen].square().mean().item()
assert end < 0.5 * start_seen, (start_seen, end)
counts = optimizer.row_steps[seen]
assert counts.max() > 10 * counts.min()  # the rows really are at different points of their schedules
print(f"OK: {int(seen.sum())} rows trained, per-row steps {int(counts.min())}..{int(counts.max())}, "
      f"loss on trained rows {start_seen:.3f} -> {end:.3f} (all rows at start {start:.3f})")
