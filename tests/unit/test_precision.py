# ruff: noqa: F811  (the fixtures of test_backends, imported by name, are the tests' parameters)
"""Issue 24: ``--mixed-precision auto|bf16|no`` on CPU — ``auto`` resolves as documented, bf16 and fp32 runs of tiny
random models train, save and load, a cached fp32 embedding is never served to a bf16 run, same seed same numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from imblab.backends import make_backend
from imblab.model import load_model
from imblab.training import autocast, cpu_has_bf16, resolve_mixed_precision
from tests.unit.test_backends import _fit, _isolated_cache, sms, tiny_models  # noqa: F401 (fixtures)


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        pytest.skip("no /proc/cpuinfo to check the CPU's flags against")
    return {flag for line in text.splitlines() if line.startswith("flags") for flag in line.split(":", 1)[1].split()}


def test_auto_resolves_as_documented_on_this_cpu() -> None:
    flags = _cpu_flags()
    native = bool({"avx512_bf16", "amx_bf16"} & flags)
    assert cpu_has_bf16() == native
    assert resolve_mixed_precision("auto", "cpu") == ("bf16" if native else "no")
    assert resolve_mixed_precision(None, "cpu") == resolve_mixed_precision("auto", "cpu")
    assert resolve_mixed_precision("no", "cpu") == "no" and resolve_mixed_precision("bf16", "cpu") == "bf16"
    with pytest.raises(ValueError, match="mixed_precision"):
        resolve_mixed_precision("fp8", "cpu")


def test_autocast_computes_matmuls_in_bf16_only_when_asked() -> None:
    a = torch.randn(8, 8)
    with autocast("bf16", "cpu"):
        assert (a @ a).dtype == torch.bfloat16
    with autocast("no", "cpu"):
        assert (a @ a).dtype == torch.float32


@pytest.mark.parametrize("precision", ["no", "bf16"])
def test_finetune_trains_saves_and_loads_in_each_precision(sms, tiny_models, precision: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model = _fit(sms, "weighted", "finetune", tiny_models["bert"], epochs=1, batch_size=16, mixed_precision=precision)
    assert model.precision == precision
    texts = list(sms["test"].texts)
    before = model.predict_proba(texts)
    assert np.isfinite(before).all()
    model.save(tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert loaded.precision == precision  # predicts in the precision it was trained and evaluated in
    np.testing.assert_allclose(loaded.predict_proba(texts), before, atol=1e-6)
    again = _fit(sms, "weighted", "finetune", tiny_models["bert"], epochs=1, batch_size=16, mixed_precision=precision)
    np.testing.assert_array_equal(again.predict_proba(texts), before)  # same seed, same numbers


def test_bf16_and_fp32_fine_tunes_differ_but_agree(sms, tiny_models) -> None:  # type: ignore[no-untyped-def]
    texts = list(sms["test"].texts)
    fp32 = _fit(sms, "baseline", "finetune", tiny_models["bert"], epochs=1, batch_size=16, mixed_precision="no")
    bf16 = _fit(sms, "baseline", "finetune", tiny_models["bert"], epochs=1, batch_size=16, mixed_precision="bf16")
    p32, p16 = fp32.predict_proba(texts), bf16.predict_proba(texts)
    assert not np.array_equal(p32, p16)  # bf16 really computed something else
    assert np.abs(p32 - p16).max() < 0.05


def test_bf16_prediction_with_cast_weights_equals_autocast_and_follows_training(sms, tiny_models) -> None:  # type: ignore[no-untyped-def]
    model = _fit(sms, "baseline", "finetune", tiny_models["bert"], epochs=1, batch_size=16, mixed_precision="bf16")
    backend, texts = model.backend, list(sms["test"].texts)

    def autocast_on_fp32_weights() -> np.ndarray:
        rows = []
        with torch.inference_mode(), autocast("bf16", "cpu"):
            for text in texts:
                rows.append(backend.model(**backend._batch([text])).logits.float().numpy())
        return np.vstack(rows)

    copy = backend._inference_model()
    assert copy is not backend.model and backend.model.classifier.weight.dtype == torch.float32  # masters stay fp32
    assert copy.classifier.weight.dtype == torch.bfloat16
    alone = np.vstack([backend.predict_logits([text]) for text in texts])
    np.testing.assert_array_equal(alone, autocast_on_fp32_weights())  # the same cast, done once
    assert backend._inference_model() is copy  # kept while the weights stay
    with torch.no_grad():
        backend.model.classifier.bias.add_(1.0)  # training moved a weight: the copy is remade
    assert backend._inference_model() is not copy
    np.testing.assert_array_equal(np.vstack([backend.predict_logits([t]) for t in texts]), autocast_on_fp32_weights())


@pytest.mark.parametrize("backend", ["frozen", "hybrid"])
def test_embeddings_train_save_and_load_in_each_precision(sms, tiny_models, backend: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    texts = list(sms["test"].texts)
    for precision in ("no", "bf16"):
        model = _fit(sms, "baseline", backend, tiny_models["bert"], mixed_precision=precision)
        assert model.precision == precision
        model.save(tmp_path / precision)
        loaded = load_model(tmp_path / precision)
        assert loaded.precision == precision
        np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-6)


def test_a_cached_fp32_embedding_is_never_served_to_a_bf16_run(sms, tiny_models) -> None:  # type: ignore[no-untyped-def]
    texts = list(sms["train"].texts)
    fp32 = make_backend("frozen", model_name=tiny_models["bert"], max_length=64, mixed_precision="no")
    bf16 = make_backend("frozen", model_name=tiny_models["bert"], max_length=64, mixed_precision="bf16")
    first = fp32.embeddings(texts)  # cached now
    assert fp32._cache_path(texts) != bf16._cache_path(texts)
    second = bf16.embeddings(texts)
    assert not np.array_equal(first, second)  # computed in bf16, not read from the fp32 entry
    cosine = np.sum(first * second, axis=1)  # both L2-normalised
    assert cosine.min() > 0.99
    np.testing.assert_array_equal(bf16.embeddings(texts), second)  # its own entry, read back
    # An fp32 entry keeps the key it had before precision was part of it: old caches still count.
    import hashlib
    import json

    from imblab.backends._protocol import texts_hash
    from imblab.data import cache_dir

    old_key = json.dumps([fp32.identity, fp32.max_length, fp32.pooling, texts_hash(texts)])
    assert fp32._cache_path(texts) == cache_dir() / "embeddings" / f"{hashlib.sha256(old_key.encode()).hexdigest()}.npy"


def test_a_bf16_entry_made_with_other_passes_is_never_served(sms, tiny_models, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """bf16 numbers move with the padded length of a text's pass: the passes (the token budget a thread, the
    machine's cores) are part of a bf16 entry's key; an fp32 key does not depend on them."""
    import imblab.backends._frozen as frozen

    texts = list(sms["train"].texts)
    bf16 = make_backend("frozen", model_name=tiny_models["bert"], max_length=64, mixed_precision="bf16")
    fp32 = make_backend("frozen", model_name=tiny_models["bert"], max_length=64, mixed_precision="no")
    here, here_fp32 = bf16._cache_path(texts), fp32._cache_path(texts)
    monkeypatch.setattr(frozen, "usable_cores", lambda: 64)
    assert bf16._cache_path(texts) != here and fp32._cache_path(texts) == here_fp32
    monkeypatch.setattr(frozen, "CPU_TOKENS_PER_THREAD", 384)
    assert len({here, bf16._cache_path(texts)}) == 2


def test_a_model_stored_before_precision_was_recorded_predicts_in_fp32(sms, tiny_models, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    model = _fit(sms, "baseline", "finetune", tiny_models["bert"], epochs=1, batch_size=16, mixed_precision="no")
    model.save(tmp_path / "model")
    meta_path = tmp_path / "model" / "imblab.json"
    meta = json.loads(meta_path.read_text())
    settings = meta["backend"]["settings"]
    assert settings.pop("precision") == "no"
    meta_path.write_text(json.dumps(meta))
    assert load_model(tmp_path / "model").precision == "no"


def test_a_model_validated_while_training_predicts_with_the_stock_model(sms, tiny_models) -> None:  # type: ignore[no-untyped-def]
    """Validation during bf16 training copies the model while the loop's dropout path is swapped in; the copy that
    predicts afterwards must be the restored, stock model's."""
    from torch import nn

    from imblab.model import TrainConfig, TrainedModel
    from tests.unit.test_backends import LABELS

    rows: list[dict] = []
    model = TrainedModel.fit(
        sms["train"].texts, sms["train"].y, sms["validation"].texts, sms["validation"].y, labels=LABELS,
        technique="weighted", backend="finetune", model_name=tiny_models["bert"], seed=0,
        config=TrainConfig(max_length=64, epochs=1, batch_size=16, mixed_precision="bf16"), progress=False,
        on_epoch=rows.append)
    assert rows and "validation_score" in rows[0]  # the listener scored validation during training
    texts = list(sms["test"].texts)
    proba = model.predict_proba(texts)
    inference = model.backend._inference_model()
    assert inference.config._attn_implementation == model.backend.model.config._attn_implementation != \
        "imblab_fast_dropout"
    assert any(type(m) is nn.Dropout for m in inference.modules())
    del model.backend._bf16_copy  # a fresh copy of the trained model predicts the same
    np.testing.assert_array_equal(model.predict_proba(texts), proba)
