"""Export a checkpoint as a Hugging Face GPT2LMHeadModel folder: model.safetensors, config.json,
tokenizer.json and tokenizer_config.json, loadable with `transformers` as GPT-2 itself is.

The layer names are already GPT-2's; HF's GPT-2 keeps its Linear layers as Conv1D, whose weight is
stored (in, out), so every attention and MLP weight is transposed. The embedding is cut back from the
padded vocabulary to the tokenizer's, so generation in transformers never sees a padding id.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from safetensors.torch import save_file

from training import checkpoint as ckpt
from training.sample import load_model

CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def hf_config(model_cfg, eot_id: int | None) -> dict:
    return {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
        "vocab_size": model_cfg.vocab_size, "n_positions": model_cfg.block_size,
        "n_ctx": model_cfg.block_size, "n_embd": model_cfg.n_embd, "n_layer": model_cfg.n_layer,
        "n_head": model_cfg.n_head, "n_inner": None, "activation_function": "gelu_new",
        "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0, "layer_norm_epsilon": 1e-5,
        "initializer_range": 0.02, "scale_attn_weights": True, "use_cache": True,
        "bos_token_id": eot_id, "eos_token_id": eot_id, "tie_word_embeddings": True,
        "torch_dtype": "float32",
    }


def export_hf(checkpoint: str | Path, hf_dir: str | Path) -> Path:
    model, meta, path = load_model(checkpoint)
    cfg = model.config
    if any(cfg.layer_window(i) is not None for i in range(cfg.n_layer)):
        raise ckpt.CheckpointError(
            f"checkpoint {path} has banded attention layers (model.attn_pattern={cfg.attn_pattern}); "
            "GPT2LMHeadModel has dense attention only, so only GPT-2-style models export")
    if not cfg.bias:
        raise ckpt.CheckpointError(f"checkpoint {path} has model.bias=false; GPT-2 has biases")
    state = {}
    for name, tensor in model.state_dict().items():
        if name == ckpt.TIED_KEY:
            continue  # tied to transformer.wte.weight; transformers ties it again on load
        if name.endswith(CONV1D):
            tensor = tensor.t()
        if name == "transformer.wte.weight":
            tensor = tensor[: cfg.vocab_size]
        state[name] = tensor.contiguous()
    out = Path(hf_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_file(state, out / "model.safetensors", metadata={"format": "pt"})
    eot_id = meta.get("eot_id")
    (out / "config.json").write_text(json.dumps(hf_config(cfg, eot_id), indent=2))
    tokenizer_file = Path(path) / ckpt.TOKENIZER_FILE
    if tokenizer_file.is_file():
        shutil.copyfile(tokenizer_file, out / "tokenizer.json")
        from tokenizers import Tokenizer
        eot = Tokenizer.from_file(str(tokenizer_file)).id_to_token(eot_id) if eot_id is not None else None
        tok_cfg = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": cfg.block_size,
                   "bos_token": eot, "eos_token": eot, "unk_token": eot}
        (out / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2))
    return out
