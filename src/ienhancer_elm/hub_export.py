"""Writing complete Hub model folders (weights, config, tokenizer, the three code files)."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from .configuration_ienhancer_elm import IEnhancerELMConfig
from .modeling_ienhancer_elm import IEnhancerELMForSequenceClassification
from .tokenization_ienhancer_elm import KmerTokenizer

TINY_MEMBER = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, max_position_embeddings=512
)


def tiny_model(kmers=(3, 4), seed: int = 0) -> IEnhancerELMForSequenceClassification:
    """A small random ensemble (hidden 32, 2 layers) for tests and examples; it knows nothing."""
    torch.manual_seed(seed)
    config = IEnhancerELMConfig(kmers=list(kmers), member_configs={str(k): TINY_MEMBER for k in kmers})
    return IEnhancerELMForSequenceClassification(config).eval()


def write_model_folder(model: IEnhancerELMForSequenceClassification, folder: str | Path) -> Path:
    """Save the model with its tokenizer, as safetensors, with `auto_map` and the code files."""
    folder = Path(folder)
    model.save_pretrained(folder)
    KmerTokenizer(kmers=model.config.kmers).save_pretrained(folder)
    return folder


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Write hub_configs/tiny: a small random ensemble folder.")
    parser.add_argument("folder", nargs="?", default="hub_configs/tiny")
    args = parser.parse_args(argv)
    print(write_model_folder(tiny_model(), args.folder))


if __name__ == "__main__":
    main()
