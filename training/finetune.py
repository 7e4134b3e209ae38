"""Fine-tune one k-mer member with stratified 5-fold cross-validation, then refit on all training data.

accelerate launch --config_file training/accelerate/cpu.yaml training/finetune.py training/configs/finetune_k3_layer1.json
"""

from ienhancer_elm.training.arguments import parse_arguments
from ienhancer_elm.training.finetuning import FinetuneArguments, finetune


def main():
    finetune(parse_arguments(FinetuneArguments))


if __name__ == "__main__":
    main()
