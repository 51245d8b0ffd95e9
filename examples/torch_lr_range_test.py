"""An LR range test on a small torch model: sweep the learning rate up with ``fastlr.lr_range``, record
the loss at each step, pick a learning rate with ``fastlr.suggest_lr``, then train with it.

The model is a two-layer MLP regressing a smooth function; the sweep runs from 1e-6 to 10 over 200
steps (log-spaced). The learning rate the "minimum" rule suggests must then train the fresh model to a
much lower loss than it starts from.

Run: ``python examples/torch_lr_range_test.py``; prints ``OK: ...`` and exits 0.
"""

from __future__ import annotations

import numpy as np
import torch

import fastlr

torch.manual_seed(0)
x = torch.linspace(-2, 2, 256).unsqueeze(1)
y = torch.sin(2 * x) + 0.1 * x * x


def model_and_optimizer(lr: float):
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(1, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    return model, torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def loss_of(model) -> torch.Tensor:
    return torch.nn.functional.mse_loss(model(x), y)


# the range test: one update per learning rate of the sweep
steps = 200
sweep = fastlr.lr_range(1e-6, 10.0, steps)
lrs = sweep.curve(steps)
model, optimizer = model_and_optimizer(float(lrs[0]))
losses = []
for step in range(steps):
    for group in optimizer.param_groups:
        group["lr"] = float(lrs[step])
    loss = loss_of(model)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(float(loss.detach()))
    if not np.isfinite(losses[-1]):
        break
lrs = lrs[: len(losses)]
suggestions = {method: fastlr.suggest_lr(lrs, losses, method) for method in ("valley", "steepest", "minimum")}
print("suggestions:", {k: f"{v:.2e}" for k, v in suggestions.items()})

# train a fresh model with the classic choice: a tenth of the learning rate at the loss's minimum
lr = suggestions["minimum"]
model, optimizer = model_and_optimizer(lr)
start = float(loss_of(model).detach())
schedule = fastlr.Cosine(peak_lr=lr, total_steps=300)
for step in range(300):
    for group in optimizer.param_groups:
        group["lr"] = float(schedule(step))
    loss = loss_of(model)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
final = float(loss_of(model).detach())
assert 1e-6 < lr < 10.0, lr
assert final < 0.2 * start, (start, final)
print(f"OK: loss {start:.4f} -> {final:.4f} at the suggested lr {lr:.2e}")
