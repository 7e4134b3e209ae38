"""One resumable training loop for every script, driven by `accelerate launch`.

State (model, optimizer, scheduler, RNGs, sampler epoch and the loop's own progress) is saved with
`Accelerator.save_state`, so a run killed mid-epoch resumes to the same weights as one never killed.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import DataLoaderConfiguration, set_seed
from tqdm.auto import tqdm

from ..runtime import no_accelerator

CHECKPOINT = "checkpoint"


@dataclass(kw_only=True)
class LoopSettings:
    epochs: int = 30
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    lr_decay: float = 0.98  # ExponentialLR per epoch, as in the paper
    warmup_steps: int = 0
    grad_clip: float = 2.0
    checkpoint_every: int = 0  # steps between mid-epoch checkpoints; 0: at epoch ends only
    patience: int = 0  # epochs without improvement before stopping; 0: never stop early
    max_minutes: float = 0  # a compute budget: no epoch starts after this many minutes of this process; 0: none
    stop_after_steps: int = 0  # tests only: save and leave after this many steps, as if killed


@dataclass
class Progress:
    """The loop's own resumable state."""

    epoch: int = 0
    step_in_epoch: int = 0
    global_step: int = 0
    best_value: float = -math.inf
    best_epoch: int = -1
    loss_sum: float = 0.0  # over the current epoch's steps, resumed with it
    history: list = field(default_factory=list)
    finished: bool = False  # False while a run can still be resumed
    stopped_by_budget: bool = False

    def state_dict(self):
        return asdict(self)

    def load_state_dict(self, state):
        for key, value in state.items():
            setattr(self, key, value)


def make_accelerator(seed: int, mixed_precision: str = "no", cpu: bool = False) -> Accelerator:
    accelerator = Accelerator(
        mixed_precision=mixed_precision,
        cpu=cpu or no_accelerator(),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True, data_seed=seed),
    )
    set_seed(seed)
    return accelerator


def train(
    accelerator: Accelerator,
    model: torch.nn.Module,
    train_loader,
    settings: LoopSettings,
    output_dir: Path,
    end_of_epoch: Callable[[torch.nn.Module, int], dict] | None = None,
    on_improvement: Callable[[torch.nn.Module], None] | None = None,
) -> Progress:
    """Train for `settings.epochs`, resuming from `output_dir/checkpoint` when it exists.

    `end_of_epoch(model, epoch)` returns the epoch's metrics; its `"selection"` entry, when present,
    is maximised: `on_improvement(unwrapped_model)` runs when it improves, and `patience` epochs
    without improvement end the run.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    model, optimizer, train_loader = accelerator.prepare(model, optimizer, train_loader)
    # Not prepared: accelerate would step a prepared scheduler once per process.
    scheduler = learning_rate_schedule(optimizer, settings, steps_per_epoch=len(train_loader))
    progress = Progress()
    accelerator.register_for_checkpointing(progress, scheduler)
    if (output_dir / CHECKPOINT).is_dir():
        accelerator.load_state(str(output_dir / CHECKPOINT))
        accelerator.print(f"resumed at epoch {progress.epoch}, step {progress.step_in_epoch}")
    began = time.perf_counter()
    while progress.epoch < settings.epochs and not _patience_spent(progress, settings):
        if settings.max_minutes and time.perf_counter() - began > 60 * settings.max_minutes:
            progress.stopped_by_budget = True
            accelerator.print(f"compute budget of {settings.max_minutes} min spent after {progress.epoch} epochs")
            break
        started = time.perf_counter()
        if not _run_epoch(accelerator, model, optimizer, scheduler, train_loader, settings, progress, output_dir):
            return progress  # stopped on purpose (tests)
        metrics = end_of_epoch(accelerator.unwrap_model(model), progress.epoch) if end_of_epoch else {}
        seconds = round(time.perf_counter() - started, 1)  # since this process began the epoch, evaluation included
        train_loss = progress.loss_sum / max(1, progress.step_in_epoch)
        metrics = {"epoch": progress.epoch, "step": progress.global_step, "train_loss": train_loss, **metrics}
        metrics["seconds"] = seconds
        if metrics.get("selection", -math.inf) > progress.best_value:
            progress.best_value, progress.best_epoch = metrics["selection"], progress.epoch
            if on_improvement and accelerator.is_main_process:
                on_improvement(accelerator.unwrap_model(model))
        progress.history.append(metrics)
        progress.epoch, progress.step_in_epoch, progress.loss_sum = progress.epoch + 1, 0, 0.0
        _log(accelerator, output_dir, metrics)
        _save(accelerator, output_dir)
    progress.finished = True
    accelerator.wait_for_everyone()
    check_ranks_agree(accelerator, model)
    return progress


def check_ranks_agree(accelerator: Accelerator, model: torch.nn.Module) -> None:
    """Data-parallel ranks must end with the same weights; compare fingerprints of every parameter."""
    if accelerator.num_processes == 1:
        return
    parameters = [p.detach().double().flatten() for p in accelerator.unwrap_model(model).parameters()]
    fingerprint = torch.stack([torch.stack([p.sum(), p.square().sum(), p.abs().max()]) for p in parameters]).flatten()
    everyone = accelerator.gather(fingerprint.to(accelerator.device)[None]).cpu()
    if not torch.equal(everyone, everyone[:1].expand_as(everyone)):
        raise RuntimeError("data-parallel ranks ended with different weights")
    accelerator.print(f"weights agree across {accelerator.num_processes} processes")


def learning_rate_schedule(optimizer, settings: LoopSettings, steps_per_epoch: int):
    """Linear warm-up over the first steps, times `lr_decay` to the power of the epoch; stepped per batch."""

    def factor(step: int) -> float:
        return min(1.0, (step + 1) / max(1, settings.warmup_steps)) * settings.lr_decay ** (step // steps_per_epoch)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _run_epoch(accelerator, model, optimizer, scheduler, loader, settings, progress, output_dir) -> bool:
    model.train()
    loader.set_epoch(progress.epoch)
    batches = accelerator.skip_first_batches(loader, progress.step_in_epoch) if progress.step_in_epoch else loader
    quiet = True if not accelerator.is_local_main_process else None  # None: a bar only on a terminal
    bar = tqdm(batches, desc=f"epoch {progress.epoch}", disable=quiet, leave=False)
    for batch in bar:
        loss = model(**batch).loss
        accelerator.backward(loss)
        if settings.grad_clip:
            accelerator.clip_grad_norm_(model.parameters(), settings.grad_clip)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        progress.step_in_epoch += 1
        progress.global_step += 1
        progress.loss_sum += loss.item()
        bar.set_postfix(loss=f"{loss.item():.4f}")
        if settings.checkpoint_every and progress.global_step % settings.checkpoint_every == 0:
            _save(accelerator, output_dir)
        if settings.stop_after_steps and progress.global_step >= settings.stop_after_steps:
            _save(accelerator, output_dir)
            return False
    return True


def _patience_spent(progress: Progress, settings: LoopSettings) -> bool:
    return (
        bool(settings.patience)
        and progress.best_epoch >= 0
        and progress.epoch - progress.best_epoch > settings.patience
    )


def _save(accelerator: Accelerator, output_dir: Path) -> None:
    """Write the checkpoint beside the old one, then swap, so a kill never leaves a half-written one."""
    fresh, final = output_dir / f"{CHECKPOINT}.tmp", output_dir / CHECKPOINT
    accelerator.save_state(str(fresh))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        shutil.rmtree(final, ignore_errors=True)
        fresh.rename(final)
    accelerator.wait_for_everyone()


def _log(accelerator: Accelerator, output_dir: Path, metrics: dict) -> None:
    if accelerator.is_main_process:
        with open(output_dir / "metrics.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(metrics) + "\n")
        _log_tensorboard(output_dir / "tensorboard", metrics)
        accelerator.print(json.dumps(metrics))


def _log_tensorboard(folder: Path, metrics: dict) -> None:
    """The epoch's numbers as TensorBoard scalars, when tensorboard is installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return
    with SummaryWriter(str(folder)) as writer:
        for name, value in metrics.items():
            if name not in ("epoch", "step") and isinstance(value, (int, float)):
                writer.add_scalar(name, value, metrics["epoch"])


def hardware(accelerator: Accelerator) -> str:
    """Where a run trained, for the model card."""
    device = accelerator.device
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    return f"{accelerator.num_processes} process(es), {name}, mixed precision {accelerator.mixed_precision}"


def finish(accelerator: Accelerator) -> None:
    """End a run so that no rank aborts at exit (see DESIGN.md)."""
    accelerator.wait_for_everyone()
    accelerator.free_memory()
    accelerator.end_training()
