"""Issue 24: CPU dropout masks from a fast generator (``training/_dropout.py``) are the same dropout — the kept share
is 1 − p, the mean is kept — a function of the seed alone, and the model is restored as it was after training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from imblab.training import fast_dropout
from imblab.training._dropout import MaskSource


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_masks_keep_the_share_and_the_mean(p: float) -> None:
    x = torch.ones(2_000_000)
    out = MaskSource(0).dropout(x, p)
    kept = out != 0
    assert abs(kept.float().mean().item() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / x.numel())  # five sigmas
    assert abs(MaskSource.kept_share(p) - (1 - p)) < 1 / 65536
    np.testing.assert_allclose(out[kept].numpy(), 1 / MaskSource.kept_share(p), rtol=1e-6)  # E[out] = x exactly
    assert abs(out.mean().item() - 1.0) < 5 * np.sqrt(p / (1 - p) / x.numel())


def test_bf16_kept_elements_are_scaled_without_bias() -> None:
    x = torch.randn(2_000_000).to(torch.bfloat16)
    out = MaskSource(1).dropout(x, 0.1)
    kept = out != 0
    ratio = (out[kept].float() / x[kept].float()).mean().item()  # each element rounded to bf16 once, unbiased
    assert abs(ratio * MaskSource.kept_share(0.1) - 1) < 1e-4  # a bf16 scale (1.109375 for 1/0.9) is 1.6e-3 off


def test_masks_are_a_function_of_the_seed_and_keep_the_dtype() -> None:
    x = torch.randn(4, 64, 32, dtype=torch.bfloat16)
    a, b, c = MaskSource(7).dropout(x, 0.1), MaskSource(7).dropout(x, 0.1), MaskSource(8).dropout(x, 0.1)
    assert a.dtype == torch.bfloat16 and a.shape == x.shape
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert MaskSource(0).dropout(x, 0.0) is x and not MaskSource(0).dropout(x, 1.0).any()


def test_gradient_flows_through_the_kept_elements_only() -> None:
    x = torch.randn(1000, requires_grad=True)
    out = MaskSource(3).dropout(x, 0.2)
    out.sum().backward()
    kept = (out != 0).detach()
    np.testing.assert_allclose(x.grad[kept].numpy(), 1 / MaskSource.kept_share(0.2), rtol=1e-6)
    assert (x.grad[~kept] == 0).all()


def _bert() -> nn.Module:
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64, num_labels=2)
    return BertForSequenceClassification(config)


def _inputs() -> dict[str, torch.Tensor]:
    ids = torch.randint(1, 100, (3, 12), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0  # a padded row: the attention mask must reach the swapped attention
    return {"input_ids": ids, "attention_mask": mask}


def test_a_hugging_face_model_drops_out_in_training_and_is_restored_after() -> None:
    model, inputs = _bert(), _inputs()
    model.eval()
    stock = model(**inputs).logits
    implementation = model.config._attn_implementation
    with fast_dropout(model, seed=0):
        assert model.config._attn_implementation != implementation
        assert not any(type(m) is nn.Dropout for m in model.modules())
        with torch.no_grad():
            # eval mode: no dropout; eager attention equals the stock attention, padding masked alike
            torch.testing.assert_close(model(**inputs).logits, stock, atol=1e-5, rtol=1e-5)
            model.train()
            first, second = model(**inputs).logits, model(**inputs).logits
            assert not torch.allclose(first, second)  # masks are drawn afresh every pass
    model.eval()
    assert model.config._attn_implementation == implementation
    assert sum(type(m) is nn.Dropout for m in model.modules()) > 0
    assert not any(hasattr(m, "_imblab_masks") for m in model.modules())
    torch.testing.assert_close(model(**inputs).logits, stock)


def test_the_attention_probabilities_are_dropped_out() -> None:
    model, inputs = _bert(), _inputs()
    for module in model.modules():  # only the attention's own dropout is left on
        if isinstance(module, nn.Dropout) and "attention.self" not in _name(model, module):
            module.p = 0.0
    model.train()
    with fast_dropout(model, seed=0), torch.no_grad():
        assert not torch.allclose(model(**inputs).logits, model(**inputs).logits)


def _name(model: nn.Module, module: nn.Module) -> str:
    return next(name for name, m in model.named_modules() if m is module)


def test_the_model_is_restored_when_training_fails() -> None:
    model = _bert()
    with pytest.raises(RuntimeError, match="boom"), fast_dropout(model, seed=0):
        raise RuntimeError("boom")
    assert model.config._attn_implementation in ("sdpa", "eager")
    assert sum(type(m) is nn.Dropout for m in model.modules()) > 0


def test_a_model_with_its_own_attention_keeps_it_and_gets_the_masks() -> None:
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification

    torch.manual_seed(0)
    model = DebertaV2ForSequenceClassification(DebertaV2Config(
        vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=64, num_labels=2))
    implementation = model.config._attn_implementation
    ids = _inputs()["input_ids"]
    with fast_dropout(model, seed=0):
        assert model.config._attn_implementation == implementation  # its attention is not AttentionInterface's
        assert not any(type(m) is nn.Dropout for m in model.modules())
        model.train()
        with torch.no_grad():
            assert not torch.allclose(model(input_ids=ids).logits, model(input_ids=ids).logits)
    assert sum(type(m) is nn.Dropout for m in model.modules()) > 0
