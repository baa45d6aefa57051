"""Issue 24: on CPU the loop keeps a word-embedding gradient buffer between steps (``training/_embedding_grad.py``):
the gradients equal autograd's, step after step and accumulated, the padding row stays zero, no new buffer is made,
and the model is restored after."""

from __future__ import annotations

import torch
from torch import nn

from imblab.training._embedding_grad import reused_embedding_grads


def _bert() -> nn.Module:
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=5000, hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64, num_labels=2, pad_token_id=0,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    return BertForSequenceClassification(config)


def _batch(seed: int) -> dict[str, torch.Tensor]:
    ids = torch.randint(1, 5000, (4, 10), generator=torch.Generator().manual_seed(seed))
    ids[0, 6:] = 0  # padding
    ids[1, :3] = 7  # a repeated token: its rows add up
    return {"input_ids": ids, "attention_mask": (ids != 0).long(), "labels": torch.tensor([0, 1, 1, 0])}


def _word_grads(model: nn.Module, steps: list[list[int]]) -> list[torch.Tensor]:
    """The word embedding's gradient after each step; a step is the batches backpropagated before it is read."""
    weight = model.bert.embeddings.word_embeddings.weight
    out = []
    for seeds in steps:
        weight.grad = None  # the optimiser's zero_grad(set_to_none=True)
        for seed in seeds:
            model(**_batch(seed)).loss.backward()
        out.append(weight.grad.clone())
        weight.grad.mul_(0.5)  # as clipping does, in place: must not leak into the next step
    return out


def test_gradients_equal_autograd_step_after_step_and_accumulated() -> None:
    steps = [[1], [2], [3, 4]]  # the last step accumulates two backward passes
    stock = _word_grads(_bert(), steps)
    model = _bert()
    with reused_embedding_grads(model) as swapped:
        assert swapped == 1  # the word embedding only: positions and token types are small
        kept = _word_grads(model, steps)
    for ours, theirs in zip(kept, stock, strict=True):
        torch.testing.assert_close(ours, theirs, atol=1e-7, rtol=1e-6)
        assert (ours[0] == 0).all()  # the padding row
    assert (stock[0] != 0).any(dim=1).sum() > 10


def test_one_buffer_is_reused_and_the_model_is_restored() -> None:
    model = _bert()
    weight = model.bert.embeddings.word_embeddings.weight
    addresses = set()
    with reused_embedding_grads(model):
        for seed in (1, 2, 3):
            weight.grad = None
            model(**_batch(seed)).loss.backward()
            addresses.add(weight.grad.data_ptr())
        assert model.bert.embeddings.word_embeddings.weight is weight
    assert len(addresses) == 1
    assert type(model.bert.embeddings.word_embeddings) is nn.Embedding
    assert model.bert.embeddings.word_embeddings.weight is weight


def test_no_gradient_mode_and_a_failing_run() -> None:
    model = _bert()
    try:
        with reused_embedding_grads(model):
            with torch.no_grad():
                logits = model(**{k: v for k, v in _batch(1).items() if k != "labels"}).logits
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert type(model.bert.embeddings.word_embeddings) is nn.Embedding
    model.eval()
    torch.testing.assert_close(model(**{k: v for k, v in _batch(1).items() if k != "labels"}).logits, logits)
