"""Masked-LM pretraining of one k-mer member on FASTA corpora (test-set sequences are dropped).

accelerate launch --config_file training/accelerate/cpu.yaml training/pretrain_mlm.py training/configs/pretrain_k3.json
"""

from ienhancer_elm.training.arguments import parse_arguments
from ienhancer_elm.training.pretraining import PretrainArguments, pretrain


def main():
    pretrain(parse_arguments(PretrainArguments))


if __name__ == "__main__":
    main()
