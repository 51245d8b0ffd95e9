"""The practical defaults practitioners reach for, as ready-made schedules.

Each preset documents its choice and returns an ordinary schedule (inspect it with ``repr``).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from ._validation import as_number_array, require
from .schedules import ArrayLike, Constant, Linear, Schedule, WarmupCosine, with_warmup


def vision(peak_lr: ArrayLike, epochs: ArrayLike, steps_per_epoch: ArrayLike,
           warmup_epochs: ArrayLike = 5) -> Schedule:
    """Image classification (ResNet/ViT recipes, timm's defaults): linear warmup from 0 over
    ``warmup_epochs`` epochs, then cosine annealing to 0 at the end of training. Steps are updates:
    ``total_steps = epochs * steps_per_epoch``."""
    owner = "presets.vision"
    epochs = as_number_array(owner, "epochs", epochs)
    per_epoch = as_number_array(owner, "steps_per_epoch", steps_per_epoch)
    warmup = as_number_array(owner, "warmup_epochs", warmup_epochs)
    require(owner, np.asarray(epochs) > 0, "epochs must be > 0", {"epochs": epochs})
    require(owner, np.asarray(per_epoch) > 0, "steps_per_epoch must be > 0", {"steps_per_epoch": per_epoch})
    require(owner, np.asarray(warmup) <= np.asarray(epochs), "warmup_epochs must be <= epochs",
            {"warmup_epochs": warmup, "epochs": epochs})
    return WarmupCosine(peak_lr=peak_lr, total_steps=np.multiply(epochs, per_epoch),
                        warmup_steps=np.multiply(warmup, per_epoch))


def llm_pretraining(peak_lr: ArrayLike, total_steps: ArrayLike, warmup_steps: ArrayLike = 2000,
                    min_lr: Optional[ArrayLike] = None) -> Schedule:
    """LLM pretraining (GPT-3 / Chinchilla / Llama recipes): 2,000 linear warmup steps from 0, then
    cosine decay to ``min_lr`` at ``total_steps``; ``min_lr`` defaults to 10% of ``peak_lr``."""
    if min_lr is None:
        min_lr = np.multiply(as_number_array("presets.llm_pretraining", "peak_lr", peak_lr), 0.1)
    return WarmupCosine(peak_lr=peak_lr, total_steps=total_steps, warmup_steps=warmup_steps, min_lr=min_lr)


def fine_tuning(lr: ArrayLike, total_steps: ArrayLike, warmup_steps: ArrayLike = 0) -> Schedule:
    """Fine-tuning (the HF Trainer's default ``linear`` schedule): linear warmup from 0 to ``lr`` over
    ``warmup_steps`` (none by default), then linear decay to 0 at ``total_steps`` (warmup included)."""
    owner = "presets.fine_tuning"
    warmup = as_number_array(owner, "warmup_steps", warmup_steps)
    total = as_number_array(owner, "total_steps", total_steps)
    require(owner, np.asarray(warmup) < np.asarray(total), "warmup_steps must be < total_steps",
            {"warmup_steps": warmup, "total_steps": total})
    decay = Linear(start_lr=lr, end_lr=0.0, total_steps=np.subtract(total, warmup))
    if np.ndim(warmup) == 0 and warmup == 0:
        return decay
    return with_warmup(decay, warmup_steps=warmup)


def rl(lr: ArrayLike) -> Schedule:
    """Reinforcement learning (the PPO/SAC defaults of common libraries): a constant learning rate."""
    return Constant(lr)


__all__ = ["fine_tuning", "llm_pretraining", "rl", "vision"]
