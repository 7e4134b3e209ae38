import pytest
import torch
from transformers import BertTokenizer

from ienhancer_elm import KmerTokenizer
from ienhancer_elm.tokenization_ienhancer_elm import kmer_vocabulary

from conftest import DNABERT_CONFIG

# short sequences make the ids easy to read; the warning they get is tested on its own
pytestmark = pytest.mark.filterwarnings("ignore:.*shorter than 100 bp:UserWarning")

SEQUENCE = "ACGTTGCANNGATTACA"


def dnabert_vocab(k):
    return (DNABERT_CONFIG / f"bert-config-{k}" / "vocab.txt").read_text().split()


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_vocabulary_is_dnaberts(k):
    assert kmer_vocabulary(k) == dnabert_vocab(k)


def test_exact_ids_pinned():
    tokenizer = KmerTokenizer(kmers=(3, 4, 5, 6))
    ids = tokenizer("ACGTACGT")
    # Worked by hand: id = 5 + the k-mer read as a base-4 number with A T C G = 0 1 2 3
    # (ACG = 0*16 + 2*4 + 3 = 11 -> 16, line 17 of DNABERT's bert-config-3/vocab.txt).
    assert ids["input_ids_k3"] == [2, 16, 50, 57, 23, 16, 50, 3]
    assert ids["input_ids_k4"] == [2, 50, 185, 215, 80, 50, 3]
    assert ids["input_ids_k5"] == [2, 185, 727, 848, 306, 3]
    assert ids["input_ids_k6"] == [2, 727, 2896, 3378, 3]


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_ids_equal_dnabert_vocab_lookup(k):
    vocab = {token: i for i, token in enumerate(dnabert_vocab(k))}
    clean = SEQUENCE.replace("N", "")
    expected = [2] + [vocab[clean[i : i + k]] for i in range(len(clean) - k + 1)] + [3]
    assert KmerTokenizer(kmers=(k,))(clean)["input_ids"] == expected


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_batched_ids_with_ambiguous_bases_equal_the_vocab_lookup(k):
    import random

    rng = random.Random(k)
    vocab = {token: i for i, token in enumerate(dnabert_vocab(k))}
    sequences = ["".join(rng.choice("ACGTACGTACGTN") for _ in range(40)) for _ in range(20)]
    expected = [[2] + [vocab.get(s[i : i + k], 1) for i in range(len(s) - k + 1)] + [3] for s in sequences]
    assert KmerTokenizer(kmers=(k,))(sequences, padding=True, return_tensors="pt")["input_ids"].tolist() == expected


@pytest.mark.parametrize("k", [3, 6])
def test_ids_equal_stock_bert_tokenizer_on_dnabert_vocab(k):
    # vocab_file= is silently ignored by transformers 5's BertTokenizer; from_pretrained reads it.
    stock = BertTokenizer.from_pretrained(DNABERT_CONFIG / f"bert-config-{k}", do_lower_case=False)
    kmers = " ".join(SEQUENCE[i : i + k] for i in range(len(SEQUENCE) - k + 1))
    # k-mers with N are [UNK] in both.
    assert KmerTokenizer(kmers=(k,))(SEQUENCE)["input_ids"] == stock(kmers)["input_ids"]


def test_input_policy_case_whitespace_ambiguity():
    tokenizer = KmerTokenizer(kmers=(3,))
    assert tokenizer("acg\nT A")["input_ids"] == tokenizer("ACGTA")["input_ids"]
    ids = tokenizer("ACGNACG")["input_ids"]
    assert ids[2:5] == [1, 1, 1]  # CGN GNA NAC
    assert ids[1] == ids[5] == 16
    assert tokenizer("ACRYGTA")["input_ids"][1:-1][:4] == [1, 1, 1, 1]  # ACR CRY RYG YGT, then GTA
    with pytest.raises(ValueError, match="no 3 unambiguous bases"):
        tokenizer("ACRYG")  # every k-mer is [UNK]


@pytest.mark.parametrize(
    "sequence, message",
    [
        ("ACGTXACGT", "invalid character 'X' at position 5"),
        ("AC GT-A", "invalid character '-' at position 5"),
        ("ACGTé", "invalid character 'é' at position 5"),
        ("AC", "shorter than k=3"),
    ],
)
def test_bad_sequences_are_named(sequence, message):
    with pytest.raises(ValueError, match=message):
        KmerTokenizer(kmers=(3,))(sequence)


def test_batch_error_names_the_sequence():
    with pytest.raises(ValueError, match="sequence 1: invalid character 'Z' at position 2"):
        KmerTokenizer(kmers=(3,))(["ACGT", "AZGT"])


def test_too_long_sequence():
    tokenizer = KmerTokenizer(kmers=(3, 6))
    tokenizer("A" * 512)  # 510 3-mers + 2 specials
    with pytest.raises(ValueError, match="513 bp gives 513 tokens for k=3.*scan"):
        tokenizer("A" * 513)


def test_ensemble_keys_and_padding():
    tokenizer = KmerTokenizer(kmers=(3, 4))
    batch = tokenizer(["ACGTA", "ACGTAC"], padding=True, return_tensors="pt")
    assert set(batch) == {"input_ids_k3", "attention_mask_k3", "input_ids_k4", "attention_mask_k4"}
    assert batch["input_ids_k3"].shape == (2, 6) and batch["input_ids_k4"].shape == (2, 5)
    assert batch["attention_mask_k3"].tolist() == [[1, 1, 1, 1, 1, 0], [1] * 6]
    assert batch["input_ids_k3"][0, -1] == 0
    single = tokenizer("ACGTA", return_tensors="pt")
    assert torch.equal(single["input_ids_k4"], batch["input_ids_k4"][:1, :4])


def test_tokenize_and_decode_speak_the_first_k():
    tokenizer = KmerTokenizer(kmers=(3,))
    assert tokenizer.tokenize("ACGTA") == ["ACG", "CGT", "GTA"]
    assert tokenizer.decode(tokenizer("ACGTA")["input_ids"]) == "[CLS] ACG CGT GTA [SEP]"


def test_save_load_round_trip_and_dnabert_folder(tmp_path):
    KmerTokenizer(kmers=(5,)).save_pretrained(tmp_path)
    assert (tmp_path / "vocab.txt").read_text().split() == dnabert_vocab(5)
    assert KmerTokenizer.from_pretrained(tmp_path)(SEQUENCE) == KmerTokenizer(kmers=(5,))(SEQUENCE)
    # DNABERT's own folder (do_lower_case: true in its config) loads with the right k and ids.
    dnabert = KmerTokenizer.from_pretrained(DNABERT_CONFIG / "bert-config-4")
    assert dnabert.kmers == (4,) and dnabert(SEQUENCE) == KmerTokenizer(kmers=(4,))(SEQUENCE)


def test_foreign_vocab_is_refused(tmp_path):
    (tmp_path / "vocab.txt").write_text("\n".join(sorted(dnabert_vocab(3))))
    with pytest.raises(ValueError, match="not a DNABERT k-mer vocabulary"):
        KmerTokenizer(vocab_file=str(tmp_path / "vocab.txt"))


def test_bad_kmers():
    with pytest.raises(ValueError, match="kmers must be distinct"):
        KmerTokenizer(kmers=(3, 3))
    with pytest.raises(ValueError, match="kmers must be distinct"):
        KmerTokenizer(kmers=(7,))
