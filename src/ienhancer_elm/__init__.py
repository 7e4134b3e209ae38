"""iEnhancer-ELM: enhancer identification with an ensemble of k-mer BERT language models.

The classes load on first use, so that the command line starts without importing torch; using any of
them registers them with transformers' Auto factories (see `ienhancer_elm.models`).
"""

__version__ = "0.1.0"
__all__ = ["IEnhancerELMConfig", "IEnhancerELMForSequenceClassification", "IEnhancerELMOutput", "KmerTokenizer"]


def __getattr__(name):
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import models

    return getattr(models, name)
