"""The release tooling: building the benchmark dataset, the shipped models' cards, publishing to the Hub.

The command line reaches it through `ienhancer-elm release ...`; the product modules never import it.
"""
