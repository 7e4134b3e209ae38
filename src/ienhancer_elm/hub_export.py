"""Writing complete Hub model folders (weights, config, tokenizer, the three code files)."""

from __future__ import annotations

from pathlib import Path

import torch

from .models import IEnhancerELMConfig, IEnhancerELMForSequenceClassification, KmerTokenizer

TINY_MEMBER = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, max_position_embeddings=512
)


def tiny_model(kmers=(3, 4), seed: int = 0) -> IEnhancerELMForSequenceClassification:
    """A small random ensemble (hidden 32, 2 layers) for tests and examples; it knows nothing."""
    config = IEnhancerELMConfig(kmers=list(kmers), member_configs={str(k): TINY_MEMBER for k in kmers})
    with torch.random.fork_rng(devices=[]):  # the caller's random state is left as it was
        torch.manual_seed(seed)
        return IEnhancerELMForSequenceClassification(config).eval()


# The longest sequence a model that reads in windows takes from its tokenizer (tokens of its smallest k, so about
# as many bases); longer ones are for `ienhancer-elm scan`, which does not hold a whole sequence's windows at once.
WINDOWED_MODEL_MAX_LENGTH = 10_000


def write_model_folder(model: IEnhancerELMForSequenceClassification, folder: str | Path) -> Path:
    """Save the model with its tokenizer, as safetensors, with `auto_map` and the code files."""
    folder = Path(folder)
    model.save_pretrained(folder)
    most = WINDOWED_MODEL_MAX_LENGTH if model.config.window_bp else 512
    KmerTokenizer(kmers=model.config.kmers, model_max_length=most).save_pretrained(folder)
    return folder
