"""Running the models: devices, precision, loading an ensemble, and compiling it for inference."""

from __future__ import annotations

import ctypes
import warnings
from contextlib import nullcontext
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from . import models  # noqa: F401  (registers the Auto classes load_model uses)
from .paths import resolve_model


def pick_device(device: str | None = None) -> torch.device:
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def no_accelerator() -> bool:
    """True where torch sees no GPU: accelerate must then be given `cpu=True`, or under a multi-process
    `accelerate launch` each process believes it is alone and does all of the work."""
    xpu = getattr(torch, "xpu", None)
    return not (torch.cuda.is_available() or torch.backends.mps.is_available() or (xpu and xpu.is_available()))


def process_state(device=None):
    """accelerate's view of the processes `accelerate launch` started (one without it), told `cpu=True` where no
    accelerator is present or the CPU is asked for."""
    from accelerate import PartialState  # seconds to import: only by the commands that can split their work

    return PartialState(cpu=device == "cpu" or no_accelerator())


def load_model(
    name_or_path: str | Path | None = None,
    device: str | None = None,
    revision: str | None = None,
    layer: str = "layer1",
    precision: str = "fp32",
):
    """The ensemble and its tokenizer, in eval mode on `device`; `None` means the shipped model `layer`, and a
    shipped model's short name (layer1, layer2, nhlf) that model.

    With `precision` "bf16", or "auto" where the hardware has bf16 units, the weights are cast to bf16 for
    inference (faster than autocast, which re-casts activations around every layer). The installed package
    provides the code, so no remote code is run.
    """
    source = resolve_model(name_or_path, layer)
    _check_model_source(source)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, revision=revision, trust_remote_code=False)
        model = AutoModelForSequenceClassification.from_pretrained(source, revision=revision, trust_remote_code=False)
    except OSError as error:
        if Path(source).is_dir():
            raise
        raise OSError(f"{source}: no such model folder here, nor a Hub model to be had: {error}") from error
    device = pick_device(device)
    dtype = torch.bfloat16 if use_bf16(device, precision) else torch.float32
    return model.to(device=device, dtype=dtype).eval(), tokenizer


def _check_model_source(source: str) -> None:
    """Name the problem with a local path before transformers takes it for a Hub id."""
    path = Path(source).expanduser()
    if path.is_dir() and not (path / "config.json").is_file():
        raise FileNotFoundError(f"{source}: not a model folder (no config.json)")
    could_be_hub_id = not source.startswith(("/", ".", "~")) and source.count("/") <= 1
    if not path.exists() and not could_be_hub_id:
        raise FileNotFoundError(f"{source}: no such model folder")


def bf16_supported(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(getattr(torch.cpu, check, lambda: False)() for check in checks)
    return False


def use_bf16(device: torch.device, precision: str) -> bool:
    """bf16 where asked for, or with "auto" where the hardware has bf16 units."""
    if precision not in ("auto", "bf16", "fp32"):
        raise ValueError(f"precision must be auto, bf16 or fp32, got {precision!r}")
    return precision == "bf16" or (precision == "auto" and bf16_supported(device))


def inference_autocast(model, precision: str = "auto"):
    """bf16 autocast for an fp32 model where `use_bf16` says so; a model already cast runs as it is."""
    device = next(model.parameters()).device
    if next(model.parameters()).dtype == torch.float32 and use_bf16(device, precision):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


def keep_freed_memory() -> bool:
    """Have glibc keep freed blocks of up to 32 MiB for reuse instead of returning them to the system.

    Each batch allocates activations of several MiB; by default glibc maps and unmaps them, so every
    batch page-faults them in again (a fifth to a quarter of the time of fp32 weights under autocast on
    two CPU cores; bench/allocator). The same as running with MALLOC_MMAP_THRESHOLD_=33554432
    MALLOC_TRIM_THRESHOLD_=1073741824. False where libc is not glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    mmap_threshold, trim_threshold = -3, -1  # M_MMAP_THRESHOLD, M_TRIM_THRESHOLD in malloc.h
    return bool(libc.mallopt(mmap_threshold, 32 << 20)) and bool(libc.mallopt(trim_threshold, 1 << 30))


class CompiledMember(torch.nn.Module):
    """A member compiled for inference by inductor: frozen weights, fused kernels, and CUDA graphs on GPUs.

    Inputs are padded to `rows` rows (copies of the last row), and padded batches to a multiple of
    `TOKEN_MULTIPLE` tokens, so that one graph serves every batch of a token length; an all-ones mask is
    dropped, which lets the attention kernel skip masking. Attention maps come from the eager member.
    Where compiling fails (no C++ compiler, say), it warns and runs the member uncompiled.
    """

    TOKEN_MULTIPLE = 32

    def __init__(self, member: torch.nn.Module, rows: int, mode: str | None = "auto"):
        super().__init__()
        self.member, self.rows = member, rows
        if mode == "auto":
            mode = self.mode_for(next(member.parameters()).device)
        self.compiled = torch.compile(member, dynamic=False, mode=mode)

    @staticmethod
    def mode_for(device: torch.device) -> str | None:
        """The `torch.compile` mode that measured fastest on `device` (`bench/compile_modes.py` on CPUs)."""
        # GPUs: the members are too small to fill one, so CUDA graphs (no launch overhead) matter, not GEMM tuning.
        # CPUs: the default mode (oneDNN matrix multiplies on pre-packed weights, bias and GELU fused into them);
        # max-autotune's C++ GEMM templates were slower on AMX cores.
        return "reduce-overhead" if device.type == "cuda" else None

    def forward(
        self, input_ids, attention_mask=None, output_attentions=False, output_hidden_states=False, **bert_inputs
    ):
        if output_attentions or output_hidden_states or bert_inputs:  # what the compiled graph does not return or take
            return self.member(input_ids, attention_mask, output_attentions, output_hidden_states, **bert_inputs)
        if attention_mask is not None and bool(attention_mask.all()):
            attention_mask = None
        logits = []
        for start in range(0, len(input_ids), self.rows):
            rows = slice(start, start + self.rows)
            mask = None if attention_mask is None else attention_mask[rows]
            logits.append(self._fixed_shape_logits(input_ids[rows], mask))
        return torch.cat(logits), None

    def _fixed_shape_logits(self, input_ids, attention_mask):
        count = len(input_ids)
        if attention_mask is not None:
            config = self.member.bert.config
            room = max(0, config.max_position_embeddings - input_ids.shape[1])
            extra = min(-input_ids.shape[1] % self.TOKEN_MULTIPLE, room)
            input_ids = torch.nn.functional.pad(input_ids, (0, extra), value=config.pad_token_id)
            attention_mask = torch.nn.functional.pad(attention_mask, (0, extra))
        missing = self.rows - count
        if missing:
            input_ids = torch.cat([input_ids, input_ids[-1:].expand(missing, -1)])
            if attention_mask is not None:
                attention_mask = torch.cat([attention_mask, attention_mask[-1:].expand(missing, -1)])
        try:
            with torch._inductor.config.patch(freezing=True):  # read when compiling, which the first call does
                logits, _ = self.compiled(input_ids, attention_mask)
        except Exception as error:
            if not _compiling_failed(error):
                raise
            self.compiled = self.member  # e.g. no C++ compiler: the same results, uncompiled
            reason = str(error).strip().splitlines()[0]
            warnings.warn(f"torch.compile failed, the members run uncompiled: {reason}", stacklevel=2)
            logits, _ = self.member(input_ids, attention_mask)
        return logits[:count].clone()  # CUDA graphs reuse their output memory on the next call


def _compiling_failed(error: Exception) -> bool:
    from torch._dynamo.exc import BackendCompilerFailed  # imported here: a second to load, and only compiling needs it
    from torch._inductor.exc import InductorError

    return isinstance(error, (BackendCompilerFailed, InductorError))


def compile_for_inference(model, batch_size: int):
    """Swap each member of `model` for a `CompiledMember` taking `batch_size` rows; returns `model`.

    The first batch of each token length pays the compilation (seconds per member). Measured with
    `bench/throughput.py --compile`: on two AMX CPU cores 1.2x faster prediction and about 1.4x faster
    scans once compiled; on an H200 1.4x faster prediction, but slower scans. Needs a C++ compiler on CPUs
    (see `CompiledMember`).
    """
    for key, member in model.members.items():
        if not isinstance(member, CompiledMember):
            model.members[key] = CompiledMember(member, batch_size)
    return model


def scored_precision(model, precision: str) -> str:
    """The precision a run with `--precision precision` scores in on the model's device: bf16 or fp32."""
    return "bf16" if use_bf16(next(model.parameters()).device, precision) else "fp32"
