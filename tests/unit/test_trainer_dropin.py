"""The Hugging Face drop-in: the README example runs, and each piece does what it says."""

from __future__ import annotations

import math
import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy.special import softmax

from transformers import (  # noqa: E402
    BertConfig,
    BertForSequenceClassification,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    RobertaConfig,
    RobertaForSequenceClassification,
)

from imblab.errors import ModelError  # noqa: E402
from imblab.integrations.transformers import (  # noqa: E402
    TechniqueSampler,
    apply_bias_init,
    find_classifier_head,
    fit_technique,
    make_compute_loss_func,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "trainer_dropin.py"
TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
        "vocab_size": 100, "max_position_embeddings": 64}


def test_readme_example_runs_with_bias_init_and_the_sampler(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ns = runpy.run_path(str(EXAMPLE), run_name="__main__")
    assert math.isfinite(ns["result"].training_loss) and ns["result"].training_loss > 0
    fitted = ns["loss_func"].fitted
    np.testing.assert_allclose(softmax(ns["initial_bias"].double().numpy()), fitted.effective_prior, rtol=1e-6)
    np.testing.assert_allclose(fitted.effective_prior, [0.8, 0.2])  # downsample-upweight keeps the true prior
    assert ns["sampler"].epoch == 1  # the Trainer drew its one epoch from our sampler
    assert ns["trainer"].state.global_step == math.ceil(fitted.epoch_size / 4)


@pytest.mark.parametrize(("model", "path"), [
    (lambda: BertForSequenceClassification(BertConfig(num_labels=3, **TINY)), "classifier"),
    (lambda: RobertaForSequenceClassification(RobertaConfig(num_labels=3, pad_token_id=1, **TINY)), "classifier.out_proj"),
    (lambda: DistilBertForSequenceClassification(DistilBertConfig(num_labels=3, dim=32, n_layers=2, n_heads=2,
                                                                  hidden_dim=64, vocab_size=100)), "classifier"),
])
def test_bias_init_finds_the_head_of_common_architectures(model, path):
    torch.manual_seed(0)
    m = model()
    labels = ["hate", "offensive", "neither"]
    y = np.repeat([0, 1, 2], [5, 70, 25])
    fitted = fit_technique("bias-init", y, labels)
    head = apply_bias_init(m, fitted)
    assert head is m.get_submodule(path) is find_classifier_head(m)
    np.testing.assert_allclose(softmax(head.bias.detach().double().numpy()), [0.05, 0.70, 0.25], rtol=1e-6)
    assert apply_bias_init(m, fit_technique("focal", y, labels)) is None  # no bias init: head untouched


def test_find_classifier_head_errors():
    with pytest.raises(ModelError, match="no nn.Linear layer with 7 outputs"):
        find_classifier_head(torch.nn.Sequential(torch.nn.Linear(4, 3)), num_labels=7)


def test_compute_loss_func_is_the_technique_loss_scaled_for_accumulation():
    y = np.array([0] * 30 + [1] * 6)
    loss = make_compute_loss_func("weighted:spam=10", y, ["ham", "spam"])
    logits = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 1, 0, 0, 1, 0, 0, 0])
    expected = loss.fitted.loss(logits, labels)
    out = SimpleNamespace(logits=logits)
    torch.testing.assert_close(loss({"logits": logits}, labels), expected)
    torch.testing.assert_close(loss((logits,), labels, num_items_in_batch=torch.tensor(16)), expected * 8 / 16)
    masked = labels.clone()
    masked[:2] = -100
    torch.testing.assert_close(loss({"logits": logits}, masked), loss.fitted.loss(logits[2:], labels[2:]))
    with pytest.raises(ModelError, match="needs labels"):
        loss(out, None)


def test_compute_loss_func_follows_training_progress_for_ldam_drw():
    y = np.array([0] * 30 + [1] * 6)
    loss = make_compute_loss_func("ldam-drw:drw_start=0.5", y, ["ham", "spam"])
    logits, labels = torch.randn(8, 2, generator=torch.Generator().manual_seed(1)), torch.tensor([0, 1] * 4)
    early = loss({"logits": logits}, labels)
    loss.on_step_begin(None, SimpleNamespace(global_step=60, max_steps=100), None)
    assert loss.progress == 0.6
    torch.testing.assert_close(loss({"logits": logits}, labels), loss.fitted.loss(logits, labels, 0.6))
    assert loss({"logits": logits}, labels).item() != early.item()


def test_sampler_redraws_each_epoch_and_is_seeded():
    y = np.array([0] * 40 + [1] * 8)
    fitted = fit_technique("downsample", y, ["ham", "spam"])
    a, b = TechniqueSampler(fitted, y, seed=3), TechniqueSampler(fitted, y, seed=3)
    first, second = list(a), list(a)
    assert len(a) == len(first) == 16 and first != second  # a new draw every epoch
    b.set_epoch(1)
    assert list(b) == second  # set_epoch(e) gives epoch e's draw
    assert np.bincount(y[first]).tolist() == [8, 8]
    every_row = list(TechniqueSampler(fit_technique("focal", y, ["ham", "spam"]), y, seed=0))
    assert sorted(every_row) == list(range(48)) and every_row != list(range(48))
    with pytest.raises(ValueError, match="class counts"):
        TechniqueSampler(fitted, y[:-1])


def test_readme_shows_the_example_verbatim():
    readme = (EXAMPLE.parents[1] / "README.md").read_text(encoding="utf-8")
    code = EXAMPLE.read_text(encoding="utf-8")
    body = code[code.index("import tempfile"):].strip()
    assert body in readme, "README's Trainer drop-in example differs from examples/trainer_dropin.py"
