"""The model classes, registered with transformers' Auto factories; the package imports them from here.

Registering makes folders written by this package load through `AutoModel` / `AutoTokenizer` without
`trust_remote_code`, and makes `save_pretrained` write `auto_map` and copy the three Hub code files.
"""

from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, AutoTokenizer

from .configuration_ienhancer_elm import IEnhancerELMConfig
from .modeling_ienhancer_elm import IEnhancerELMForSequenceClassification, IEnhancerELMOutput
from .tokenization_ienhancer_elm import KmerTokenizer

__all__ = ["IEnhancerELMConfig", "IEnhancerELMForSequenceClassification", "IEnhancerELMOutput", "KmerTokenizer"]

AutoConfig.register(IEnhancerELMConfig.model_type, IEnhancerELMConfig, exist_ok=True)
AutoModel.register(IEnhancerELMConfig, IEnhancerELMForSequenceClassification, exist_ok=True)
AutoModelForSequenceClassification.register(IEnhancerELMConfig, IEnhancerELMForSequenceClassification, exist_ok=True)
AutoTokenizer.register(IEnhancerELMConfig, slow_tokenizer_class=KmerTokenizer, exist_ok=True)
IEnhancerELMConfig.register_for_auto_class()
IEnhancerELMForSequenceClassification.register_for_auto_class("AutoModel")
KmerTokenizer.register_for_auto_class("AutoTokenizer")
