"""Training with Accelerate: masked-LM pretraining of members, cross-validated fine-tuning, ensembling.

The scripts in the repository's `training/` folder are thin wrappers around these modules.
"""
