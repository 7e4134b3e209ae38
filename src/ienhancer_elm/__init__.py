"""iEnhancer-ELM: enhancer identification with an ensemble of k-mer BERT language models."""

from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, AutoTokenizer

from .configuration_ienhancer_elm import IEnhancerELMConfig
from .modeling_ienhancer_elm import IEnhancerELMForSequenceClassification, IEnhancerELMOutput
from .tokenization_ienhancer_elm import KmerTokenizer

__version__ = "0.1.0"
__all__ = ["IEnhancerELMConfig", "IEnhancerELMForSequenceClassification", "IEnhancerELMOutput", "KmerTokenizer"]

# With the package installed, the Auto classes know the model without trust_remote_code;
# register_for_auto_class makes save_pretrained write auto_map and copy the Hub code files.
AutoConfig.register(IEnhancerELMConfig.model_type, IEnhancerELMConfig, exist_ok=True)
AutoModel.register(IEnhancerELMConfig, IEnhancerELMForSequenceClassification, exist_ok=True)
AutoModelForSequenceClassification.register(IEnhancerELMConfig, IEnhancerELMForSequenceClassification, exist_ok=True)
AutoTokenizer.register(IEnhancerELMConfig, slow_tokenizer_class=KmerTokenizer, exist_ok=True)
IEnhancerELMConfig.register_for_auto_class()
IEnhancerELMForSequenceClassification.register_for_auto_class("AutoModel")
KmerTokenizer.register_for_auto_class("AutoTokenizer")
