"""The Hugging Face tools people reach for first: `Trainer`, the padding collators, attention implementations,
gradient checkpointing (issue 35, items 1-3)."""

import pytest
import torch
from datasets import Dataset
from transformers import AttentionInterface, DataCollatorWithPadding, Trainer, TrainingArguments
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from ienhancer_elm.hub_export import tiny_model
from ienhancer_elm.modeling_ienhancer_elm import IEnhancerELMForSequenceClassification
from ienhancer_elm.runtime import compile_for_inference
from ienhancer_elm.tokenization_ienhancer_elm import KmerTokenizer

from conftest import synthetic_sequences


def _probabilities(model, tokenizer, sequences):
    with torch.no_grad():
        return model.eval()(**tokenizer(sequences, padding=True, return_tensors="pt")).probabilities


def test_trainer_with_the_padding_collator_trains_saves_and_reloads_to_the_same_probabilities(tmp_path):
    model = tiny_model()
    tokenizer = KmerTokenizer(kmers=model.config.kmers)
    sequences, labels = synthetic_sequences(24, 60, seed=0)
    sequences = [s[: 40 + i] for i, s in enumerate(sequences)]  # unequal lengths: the collator must pad
    train = Dataset.from_dict({"sequence": sequences, "label": labels})
    train = train.map(lambda batch: tokenizer(batch["sequence"]), batched=True, remove_columns=["sequence"])
    before = {name: value.clone() for name, value in model.state_dict().items()}
    arguments = TrainingArguments(
        tmp_path / "run",
        max_steps=3,
        per_device_train_batch_size=8,
        learning_rate=1e-3,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        logging_steps=1,
    )
    trainer = Trainer(model, arguments, train_dataset=train, data_collator=DataCollatorWithPadding(tokenizer))
    assert not trainer.model_accepts_loss_kwargs
    result = trainer.train()
    assert result.global_step == 3 and torch.isfinite(torch.tensor(result.training_loss))
    moved = [name for name, value in model.state_dict().items() if not torch.equal(value, before[name])]
    assert any(name.startswith("members.k3.bert") for name in moved)
    assert any(name.startswith("members.k4.head") for name in moved)

    trainer.save_model(tmp_path / "saved")
    tokenizer.save_pretrained(tmp_path / "saved")
    reloaded = IEnhancerELMForSequenceClassification.from_pretrained(tmp_path / "saved")
    again = KmerTokenizer.from_pretrained(tmp_path / "saved")
    held_out, _ = synthetic_sequences(6, 60, seed=9)
    assert torch.equal(_probabilities(model, tokenizer, held_out), _probabilities(reloaded, again, held_out))


def test_the_ensemble_names_its_main_input_and_takes_no_loss_kwargs():
    model = tiny_model()
    assert model.config.kmers == (3, 4) or list(model.config.kmers) == [3, 4]
    assert (
        model.main_input_name == "input_ids_k3" and KmerTokenizer(kmers=(3, 4)).model_input_names[0] == "input_ids_k3"
    )
    assert model.accepts_loss_kwargs is False
    single = IEnhancerELMForSequenceClassification(type(model.config)(**{**model.config.to_dict(), "kmers": [3]}))
    assert single.main_input_name == "input_ids"


def test_tokenizer_pad_pads_each_member_to_its_own_longest_row_and_keeps_labels():
    tokenizer = KmerTokenizer(kmers=(3, 6))
    examples = [
        {**tokenizer(sequence), "label": label} for sequence, label in (("ACGTAC" * 20, 1), ("GATTACA" * 30, 0))
    ]
    batch = tokenizer.pad(examples, return_tensors="pt")
    whole = tokenizer([e for e in ("ACGTAC" * 20, "GATTACA" * 30)], padding=True, return_tensors="pt")
    for name in tokenizer.model_input_names:
        assert torch.equal(batch[name], whole[name]), name
    assert batch["label"].tolist() == [1, 0]
    as_columns = tokenizer.pad({name: [e[name] for e in examples] for name in examples[0]}, return_tensors="pt")
    assert torch.equal(as_columns["input_ids_k6"], whole["input_ids_k6"])
    to_eight = tokenizer.pad(examples, pad_to_multiple_of=8, return_tensors="pt")
    assert to_eight["input_ids_k3"].shape[1] % 8 == 0 and to_eight["input_ids_k6"].shape[1] % 8 == 0
    one = tokenizer.pad(tokenizer("ACGTACGTACGT"))
    assert one["input_ids_k3"] == tokenizer("ACGTACGTACGT")["input_ids_k3"]  # one example keeps no batch axis
    with pytest.raises(ValueError, match="input_ids_k3: rows of .* need padding=True"):
        tokenizer.pad(examples, padding=False, return_tensors="pt")


def test_sdpa_and_eager_attention_give_the_same_outputs():
    sequences, _ = synthetic_sequences(4, 60, seed=3)
    sequences[1] = sequences[1][:45]  # padding: the mask must be honoured by both
    model = tiny_model()
    tokenizer = KmerTokenizer(kmers=model.config.kmers)
    model.set_attn_implementation("eager")
    eager = _probabilities(model, tokenizer, sequences)
    model.set_attn_implementation("sdpa")
    assert all(m.bert.config._attn_implementation == "sdpa" for m in model.members.values())
    torch.testing.assert_close(_probabilities(model, tokenizer, sequences), eager, rtol=0, atol=1e-6)


def test_an_attention_backend_registered_with_transformers_reaches_every_member():
    calls = []

    def counted_sdpa(*args, **kwargs):
        calls.append(1)
        return sdpa_attention_forward(*args, **kwargs)

    AttentionInterface.register("counted_sdpa", counted_sdpa)
    sequences, _ = synthetic_sequences(2, 60, seed=4)
    model = tiny_model()
    tokenizer = KmerTokenizer(kmers=model.config.kmers)
    expected = _probabilities(model, tokenizer, sequences)
    model.set_attn_implementation("counted_sdpa")
    found = _probabilities(model, tokenizer, sequences)
    layers = sum(m.bert.config.num_hidden_layers for m in model.members.values())
    assert len(calls) == layers
    torch.testing.assert_close(found, expected, rtol=0, atol=1e-6)


def test_flash_and_flex_attention_are_not_claimed():
    assert not IEnhancerELMForSequenceClassification._supports_flash_attn
    assert not IEnhancerELMForSequenceClassification._supports_flex_attn


def test_activation_checkpointing_recomputes_the_layers_and_keeps_the_gradients():
    sequences, labels = synthetic_sequences(4, 60, seed=5)
    model = tiny_model().train()
    inputs = KmerTokenizer(kmers=model.config.kmers)(sequences, return_tensors="pt")
    first_attention = model.member(3).bert.encoder.layer[0].attention
    calls = []
    first_attention.register_forward_hook(lambda *_: calls.append(1))

    def gradients():
        model.zero_grad()
        calls.clear()
        torch.manual_seed(0)  # the same dropout masks; checkpointing replays them on recomputation
        model(**inputs, labels=torch.tensor(labels)).loss.backward()
        return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}

    plain = gradients()
    assert len(calls) == 1
    model.activation_checkpointing_enable()  # what TrainingArguments(gradient_checkpointing=True) calls
    assert model.is_activation_checkpointing
    checkpointed = gradients()
    assert len(calls) == 2  # attention ran again in the backward pass: its activations were not kept
    assert plain.keys() == checkpointed.keys() and len(plain) > 10
    for name in plain:
        torch.testing.assert_close(checkpointed[name], plain[name], rtol=1e-5, atol=1e-7, msg=name)


def test_attention_cannot_change_once_members_are_compiled():
    model = compile_for_inference(tiny_model().eval(), batch_size=4)  # nothing compiles until the first call
    with pytest.raises(ValueError, match="replaced by compiled copies.*before compiling"):
        model.set_attn_implementation("eager")


def test_lora_adapters_on_the_members_attention_train_and_reload(tmp_path):
    from peft import LoraConfig, PeftModel, get_peft_model

    base = tiny_model()
    base.save_pretrained(tmp_path / "base")
    tokenizer = KmerTokenizer(kmers=base.config.kmers)
    # LoRA on every member's query and value projections; the small heads are trained whole
    adapted = get_peft_model(base, LoraConfig(r=4, target_modules=["query", "value"], modules_to_save=["head"]))
    trainable = [name for name, p in adapted.named_parameters() if p.requires_grad]
    assert any("members.k4" in name and "lora_A" in name for name in trainable)
    assert not any("bert" in name and "lora" not in name for name in trainable)  # the encoders stay frozen
    sequences, labels = synthetic_sequences(16, 60, seed=6)
    train = Dataset.from_dict({"sequence": sequences, "label": labels})
    train = train.map(lambda batch: tokenizer(batch["sequence"]), batched=True, remove_columns=["sequence"])
    arguments = TrainingArguments(
        tmp_path / "run",
        max_steps=2,
        per_device_train_batch_size=8,
        learning_rate=1e-2,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
    )
    Trainer(adapted, arguments, train_dataset=train, data_collator=DataCollatorWithPadding(tokenizer)).train()
    adapted.save_pretrained(tmp_path / "adapter")
    held_out, _ = synthetic_sequences(6, 60, seed=9)
    expected = _probabilities(adapted, tokenizer, held_out)
    base_again = IEnhancerELMForSequenceClassification.from_pretrained(tmp_path / "base")
    assert not torch.equal(_probabilities(base_again, tokenizer, held_out), expected)  # the adapter did something
    reloaded = PeftModel.from_pretrained(base_again, tmp_path / "adapter")
    torch.testing.assert_close(_probabilities(reloaded, tokenizer, held_out), expected, rtol=0, atol=1e-6)
    merged = reloaded.merge_and_unload()  # a plain ensemble again, to save and share as the others
    torch.testing.assert_close(_probabilities(merged, tokenizer, held_out), expected, rtol=0, atol=1e-5)
