"""Fine-tune a small PyTorch MLP with layer-wise LR decay and ``fastlr.torch.LRScheduler``.

Each ``nn.Linear`` is its own param group. ``fastlr.groups.layerwise_decay`` gives the per-layer
multipliers (the head gets 1, each layer below it ``decay`` times less); multiplying a warmup + cosine
schedule by them yields a per-group schedule of ``param_shape (n_layers,)``. The scheduler writes
``schedule(t)`` into the groups in closed form at every step.

Run: ``python examples/torch_layerwise_decay.py``; prints ``OK: ...`` and exits 0.
"""

from __future__ import annotations

import numpy as np
import torch

import fastlr
import fastlr.torch
from fastlr.groups import layerwise_decay

STEPS = 300
torch.manual_seed(0)
torch.set_num_threads(1)  # tiny tensors: threads only add overhead (and contention on small machines)

# a regression task: y = sin(x @ w)
x = torch.randn(512, 8)
y = torch.sin(x @ torch.randn(8, 1))

layers = [torch.nn.Linear(8, 32), torch.nn.Linear(32, 32), torch.nn.Linear(32, 32), torch.nn.Linear(32, 1)]
tanh = torch.nn.Tanh
model = torch.nn.Sequential(layers[0], tanh(), layers[1], tanh(), layers[2], tanh(), layers[3])

multipliers = layerwise_decay(len(layers), decay=0.7)          # [0.343, 0.49, 0.7, 1.0]
schedule = fastlr.WarmupCosine(peak_lr=3e-2, total_steps=STEPS, warmup_steps=30, min_lr=3e-4) * multipliers

optimizer = torch.optim.AdamW([{"params": layer.parameters()} for layer in layers], lr=0.0)
scheduler = fastlr.torch.LRScheduler(optimizer, schedule)

losses, used = [], []
for _ in range(STEPS):
    loss = torch.nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    used.append([group["lr"] for group in optimizer.param_groups])
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())

used = np.array(used)
# the LRs the optimizer used are exactly the schedule's curve, per layer
assert np.array_equal(used, schedule.curve(STEPS)), "LRs differ from the schedule"
# layer-wise decay kept at every step: lower layers always get the smaller LR
assert np.allclose(used[100] / used[100, -1], multipliers)
first, last = np.mean(losses[:10]), np.mean(losses[-10:])
assert last < 0.2 * first, (first, last)
print(f"OK: loss {first:.4f} -> {last:.4f}; layer LRs at step 100: "
      f"{', '.join(f'{v:.2e}' for v in used[100])}")
