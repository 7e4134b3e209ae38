"""Assemble fine-tuned members into an ensemble folder; members and threshold chosen on out-of-fold predictions.

python training/build_ensemble.py training/configs/ensemble_layer1.json
"""

import json

from ienhancer_elm.training.arguments import parse_arguments
from ienhancer_elm.training.ensemble import EnsembleArguments, build_ensemble


def main():
    report = build_ensemble(parse_arguments(EnsembleArguments))
    print(
        json.dumps(
            {key: report[key] for key in ("chosen_kmers", "threshold", "cv_at_threshold")}, indent=2, default=float
        )
    )


if __name__ == "__main__":
    main()
