"""Hugging Face folders, both ways: export a checkpoint (model.safetensors, config.json,
tokenizer.json, tokenizer_config.json, loadable with `transformers`), and load such a folder back
into training.model.GPT by reversing the export, so `train eval` needs no `transformers` at run time.

Dense models export as GPT2LMHeadModel: the layer names are already GPT-2's; HF's GPT-2 keeps its
Linear layers as Conv1D, whose weight is stored (in, out), so every attention and MLP weight is
transposed. Models with banded layers export as GPTNeoForCausalLM (alternating global / local
attention, window_size = band_width). GPT-Neo has separate q/k/v projections without bias and does
not scale scores by 1/sqrt(head_dim), so 1/sqrt(head_dim) is folded into W_q; a k bias adds the same
q.b_k to every score of a query (softmax ignores it) and is dropped; a v bias adds W_o b_v to every
output and is folded into the output projection's bias; a non-zero q bias cannot be expressed and
is refused (banded presets set model.qkv_bias=false). The embedding is cut back from the padded
vocabulary to the tokenizer's, so generation in transformers never sees a padding id.
"""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from training import checkpoint as ckpt
from training.model import GPT, GPTConfig
from training.sample import load_model

CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
HF_BUFFERS = (".attn.bias", ".attn.masked_bias")     # causal-mask buffers older GPT-2 files carry
NEO_KIND = {"dense": "global", "banded": "local"}


def _common_config(cfg: GPTConfig, eot_id: int | None) -> dict:
    return {"vocab_size": cfg.vocab_size, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
            "initializer_range": 0.02, "use_cache": True, "bos_token_id": eot_id, "eos_token_id": eot_id,
            "tie_word_embeddings": True, "torch_dtype": "float32"}


def gpt2_config(cfg: GPTConfig, eot_id: int | None) -> dict:
    return {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_positions": cfg.block_size,
            "n_ctx": cfg.block_size, "n_embd": cfg.n_embd, "n_layer": cfg.n_layer, "n_head": cfg.n_head,
            "n_inner": None, "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
            "scale_attn_weights": True, **_common_config(cfg, eot_id)}


def gpt_neo_config(cfg: GPTConfig, eot_id: int | None) -> dict:
    kinds = [NEO_KIND[cfg.attn_pattern[i % len(cfg.attn_pattern)]] for i in range(cfg.n_layer)]
    return {"architectures": ["GPTNeoForCausalLM"], "model_type": "gpt_neo",
            "max_position_embeddings": cfg.block_size, "hidden_size": cfg.n_embd, "num_layers": cfg.n_layer,
            "num_heads": cfg.n_head, "attention_types": [[[kind], 1] for kind in kinds],
            "window_size": cfg.band_width, "intermediate_size": 4 * cfg.n_embd, "resid_dropout": 0.0,
            "embed_dropout": 0.0, "attention_dropout": 0.0, **_common_config(cfg, eot_id)}


def is_banded(cfg: GPTConfig) -> bool:
    return any(cfg.layer_window(i) is not None for i in range(cfg.n_layer))


def gpt2_state(model: GPT) -> dict:
    cfg, state = model.config, {}
    for name, tensor in model.state_dict().items():
        if name == ckpt.TIED_KEY:
            continue  # tied to transformer.wte.weight; transformers ties it again on load
        if name.endswith(CONV1D):
            tensor = tensor.t()
        if name == "transformer.wte.weight":
            tensor = tensor[: cfg.vocab_size]
        state[name] = tensor
        if name.endswith("attn.c_attn.weight") and name.replace("weight", "bias") not in model.state_dict():
            state[name.replace("weight", "bias")] = torch.zeros(3 * cfg.n_embd)   # qkv_bias=false
    return state


def gpt_neo_state(model: GPT, where: str) -> dict:
    cfg, src = model.config, model.state_dict()
    scale = 1.0 / math.sqrt(cfg.head_dim)
    state = {}
    for name, tensor in src.items():
        if name == ckpt.TIED_KEY or ".attn." in name:
            continue
        state[name] = tensor
    state["transformer.wte.weight"] = src["transformer.wte.weight"][: cfg.vocab_size]
    for i in range(cfg.n_layer):
        pre, out = f"transformer.h.{i}.attn.", f"transformer.h.{i}.attn.attention."
        wq, wk, wv = src[pre + "c_attn.weight"].split(cfg.n_embd, dim=0)
        out_bias = src[pre + "c_proj.bias"].clone()
        if pre + "c_attn.bias" in src:
            bq, _, bv = src[pre + "c_attn.bias"].split(cfg.n_embd)
            if bq.abs().max() > 0:
                raise ckpt.CheckpointError(
                    f"checkpoint {where}: layer {i} has a non-zero query bias, which GPT-Neo cannot "
                    "express; train banded models with model.qkv_bias=false")
            out_bias += src[pre + "c_proj.weight"] @ bv
        state[out + "q_proj.weight"] = wq * scale
        state[out + "k_proj.weight"] = wk
        state[out + "v_proj.weight"] = wv
        state[out + "out_proj.weight"] = src[pre + "c_proj.weight"]
        state[out + "out_proj.bias"] = out_bias
    return state


def write_hf(model: GPT, hf_dir: str | Path, eot_id: int | None = None,
             tokenizer_file: str | Path | None = None, where: str = "model") -> Path:
    """Write `model` as a Hugging Face folder (GPT-2 when dense, GPT-Neo when banded)."""
    cfg = model.config
    if not cfg.bias:
        raise ckpt.CheckpointError(f"checkpoint {where} has model.bias=false; GPT-2 and GPT-Neo have biases")
    banded = is_banded(cfg)
    state = gpt_neo_state(model, where) if banded else gpt2_state(model)
    config = gpt_neo_config(cfg, eot_id) if banded else gpt2_config(cfg, eot_id)
    out = Path(hf_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous().cpu() for k, v in state.items()}, out / ckpt.MODEL_FILE,
              metadata={"format": "pt"})
    (out / "config.json").write_text(json.dumps(config, indent=2))
    if tokenizer_file is not None and Path(tokenizer_file).is_file():
        shutil.copyfile(tokenizer_file, out / "tokenizer.json")
        from tokenizers import Tokenizer
        eot = Tokenizer.from_file(str(tokenizer_file)).id_to_token(eot_id) if eot_id is not None else None
        tok_cfg = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": cfg.block_size,
                   "bos_token": eot, "eos_token": eot, "unk_token": eot}
        (out / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2))
    return out


def export_hf(checkpoint: str | Path, hf_dir: str | Path) -> Path:
    model, meta, path = load_model(checkpoint)
    return write_hf(model, hf_dir, meta.get("eot_id"), Path(path) / ckpt.TOKENIZER_FILE, where=str(path))


# --- loading a Hugging Face folder back ------------------------------------------------------------

def is_hf_folder(path: str | Path) -> bool:
    """A folder with config.json naming a GPT-2 / GPT-Neo model_type and no checkpoint marker."""
    path = Path(path)
    try:
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and config.get("model_type") in ("gpt2", "gpt_neo") \
        and not (path / ckpt.MARKER).exists()


def _model_config(hf: dict, where: Path) -> GPTConfig:
    try:
        if hf["model_type"] == "gpt2":
            return GPTConfig(vocab_size=hf["vocab_size"], block_size=hf["n_positions"], n_layer=hf["n_layer"],
                             n_head=hf["n_head"], n_embd=hf["n_embd"], attn_pattern=["dense"], attn_impl="sdpa")
        kinds = [kind for group, repeat in hf["attention_types"] for _ in range(repeat) for kind in group]
        pattern = [{v: k for k, v in NEO_KIND.items()}[kind] for kind in kinds]
        return GPTConfig(vocab_size=hf["vocab_size"], block_size=hf["max_position_embeddings"],
                         n_layer=hf["num_layers"], n_head=hf["num_heads"], n_embd=hf["hidden_size"],
                         attn_pattern=pattern, band_width=hf["window_size"], qkv_bias=False, attn_impl="sdpa")
    except (KeyError, TypeError, ValueError) as exc:
        raise ckpt.CheckpointError(f"{where}/config.json: missing or bad key {exc}") from None


def _from_gpt_neo(state: dict, cfg: GPTConfig) -> dict:
    scale = math.sqrt(cfg.head_dim)
    out = {k: v for k, v in state.items() if ".attn.attention." not in k}
    for i in range(cfg.n_layer):
        pre, src = f"transformer.h.{i}.attn.", f"transformer.h.{i}.attn.attention."
        out[pre + "c_attn.weight"] = torch.cat([state[src + "q_proj.weight"] * scale,
                                                state[src + "k_proj.weight"], state[src + "v_proj.weight"]])
        out[pre + "c_proj.weight"] = state[src + "out_proj.weight"]
        out[pre + "c_proj.bias"] = state[src + "out_proj.bias"]
    return out


def load_hf(folder: str | Path, device: str = "cpu") -> tuple[GPT, dict]:
    """A GPT2LMHeadModel / GPTNeoForCausalLM folder as a training.model.GPT, and {eot_id}."""
    folder = Path(folder)
    hf = json.loads((folder / "config.json").read_text())
    cfg = _model_config(hf, folder)
    try:
        raw = load_file(folder / ckpt.MODEL_FILE)
    except Exception as exc:  # safetensors raises several types for a missing or damaged file
        raise ckpt.CheckpointError(f"{folder}: cannot read {ckpt.MODEL_FILE} ({exc})") from None
    state = {}
    for name, tensor in raw.items():
        if name.endswith(HF_BUFFERS) or name == ckpt.TIED_KEY:
            continue
        state[name if name.startswith("transformer.") else "transformer." + name] = tensor
    if hf["model_type"] == "gpt2":
        state = {k: v.t() if k.endswith(CONV1D) else v for k, v in state.items()}
    else:
        state = _from_gpt_neo(state, cfg)
    wte = state["transformer.wte.weight"]
    padded = torch.zeros(cfg.padded_vocab_size, cfg.n_embd, dtype=wte.dtype)
    padded[: wte.size(0)] = wte
    state["transformer.wte.weight"] = padded
    state[ckpt.TIED_KEY] = padded
    model = GPT(cfg)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ckpt.CheckpointError(f"{folder}: weights do not match config.json "
                                   f"({str(exc).splitlines()[0]})") from None
    return model.to(device).eval(), {"eot_id": hf.get("eos_token_id")}
