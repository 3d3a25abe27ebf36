"""A GPT in one file: GPT-2's architecture with GPT-3's alternating dense / locally banded attention.

Pre-norm blocks, a final LayerNorm, tanh-approximated GELU (GPT-2's, so the Hugging Face export gives
the same logits), learned positions, input and output embeddings tied, residual projections
initialised with std 0.02/sqrt(2*n_layer), the vocabulary padded to a multiple of 64. Layer names
follow GPT-2's checkpoints (wte, wpe, h.N.attn.c_attn, ...), so export is a rename and a transpose.

Attention goes through scaled_dot_product_attention (flash kernels on CUDA). A banded layer given to
SDPA as a boolean mask loses those kernels, so on CUDA banded layers use FlexAttention with a block
mask (blocks outside the band are skipped, not just masked); on CPU they use the SDPA mask.

Beyond plain pre-training, forward takes an extra boolean `attn_mask` (block-diagonal for packed
examples, key padding for left-padded prompts) and `position_ids`, and a `KVCache` so that
generation computes each position once. Heads for fine-tuning, rewards and values read
`hidden_states` (what lm_head reads).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB_MULTIPLE = 64


@dataclass
class GPTConfig:
    vocab_size: int = 50257          # the tokenizer's; the embedding is padded (padded_vocab_size)
    block_size: int = 1024           # context length
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True                # GPT-2 has biases in Linear layers and LayerNorms
    # GPT-Neo (Hugging Face's model with alternating global/local attention) has no q/k/v bias:
    # banded presets set this false so they export to it.
    qkv_bias: bool = True
    # GPT-3: "alternating dense and locally banded sparse attention patterns". The pattern cycles
    # over the layers ("dense", "banded"); the paper gives no band width, so it is a setting.
    attn_pattern: list = field(default_factory=lambda: ["dense"])
    band_width: int = 256            # a banded layer's query sees itself and band_width-1 keys back
    attn_impl: str = "auto"          # auto (flex on CUDA, sdpa mask elsewhere) | sdpa | flex

    @property
    def padded_vocab_size(self) -> int:
        return -(-self.vocab_size // VOCAB_MULTIPLE) * VOCAB_MULTIPLE

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def layer_window(self, layer: int) -> int | None:
        """The band width of `layer`, or None for a dense (full causal) layer."""
        kind = self.attn_pattern[layer % len(self.attn_pattern)]
        return self.band_width if kind == "banded" else None

    def validate(self) -> None:
        """Raise ValueError (one line, naming the key) on an impossible shape."""
        if self.n_embd % self.n_head:
            raise ValueError(f"model.n_embd={self.n_embd} is not divisible by model.n_head={self.n_head}")
        for kind in self.attn_pattern:
            if kind not in ("dense", "banded"):
                raise ValueError(f"model.attn_pattern holds {kind!r}; use 'dense' or 'banded'")
        if not self.attn_pattern:
            raise ValueError("model.attn_pattern is empty; use e.g. [dense] or [dense, banded]")
        if self.attn_impl not in ("auto", "sdpa", "flex"):
            raise ValueError(f"model.attn_impl={self.attn_impl!r}; use auto, sdpa or flex")
        for key in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd", "band_width"):
            if getattr(self, key) <= 0:
                raise ValueError(f"model.{key} must be positive, got {getattr(self, key)}")


def band_mask(T: int, window: int | None, device=None) -> torch.Tensor:
    """Boolean (T, T) mask, True where query i may attend to key j: causal, and within the band."""
    i = torch.arange(T, device=device)
    diff = i[:, None] - i[None, :]
    keep = diff >= 0
    if window is not None:
        keep &= diff < window
    return keep


_block_masks: dict = {}
_compiled_flex = None


def _flex_attention(q, k, v, window: int):
    """FlexAttention with a cached band block mask (blocks wholly outside the band are skipped).
    Compiled on CUDA; on CPU it runs eagerly, a slow reference used only to test the CUDA path."""
    global _compiled_flex
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    T, device = q.size(-2), q.device
    key = (T, window, str(device))
    if key not in _block_masks:
        def band(b, h, q_idx, kv_idx):
            return (q_idx >= kv_idx) & (q_idx - kv_idx < window)
        _block_masks[key] = create_block_mask(band, None, None, T, T, device=device)
    fn = flex_attention
    # Inside a torch.compile'd model, plain flex_attention is compiled with it; eager CUDA needs a
    # compiled wrapper, else it runs the slow reference implementation.
    if device.type == "cuda" and not torch.compiler.is_compiling():
        if _compiled_flex is None:
            _compiled_flex = torch.compile(flex_attention, dynamic=False)
        fn = _compiled_flex
    return fn(q, k, v, block_mask=_block_masks[key])


class KVCache:
    """Every layer's keys and values for up to `max_len` positions of a batch, filled as generation
    goes: each position's keys and values are computed once instead of once per new token."""

    def __init__(self, config: GPTConfig, batch_size: int, max_len: int, device, dtype):
        shape = (batch_size, config.n_head, max_len, config.head_dim)
        self.keys = [torch.empty(shape, device=device, dtype=dtype) for _ in range(config.n_layer)]
        self.values = [torch.empty(shape, device=device, dtype=dtype) for _ in range(config.n_layer)]
        self.max_len = max_len
        self.length = 0  # positions filled; advanced by GPT.hidden_states after the last layer

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store this layer's new keys/values; return all keys/values so far."""
        end = self.length + k.size(2)
        if end > self.max_len:
            raise ValueError(f"KV cache holds {self.max_len} positions; {end} requested")
        self.keys[layer][:, :, self.length:end] = k
        self.values[layer][:, :, self.length:end] = v
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig, layer: int):
        super().__init__()
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias and config.qkv_bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.n_head, self.n_embd = config.n_head, config.n_embd
        self.layer = layer
        self.window = config.layer_window(layer)
        self.impl = config.attn_impl
        self.dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                cache: KVCache | None = None) -> torch.Tensor:
        """`mask`: None for plain causal attention over x, else a boolean (B, T, keys) mask that
        already holds causality and this layer's band (GPT.hidden_states builds it)."""
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if cache is not None:
            k, v = cache.append(self.layer, k, v)
        dropout = self.dropout if self.training else 0.0
        if mask is not None:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask.unsqueeze(1), dropout_p=dropout)
        elif self.window is None or self.window >= T:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True)
        elif self.impl == "flex" or (self.impl == "auto" and x.device.type == "cuda" and dropout == 0.0):
            y = _flex_attention(q, k, v, self.window)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=band_mask(T, self.window, device=x.device),
                                               dropout_p=dropout)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config: GPTConfig, layer: int):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config, layer)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                cache: KVCache | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), mask, cache)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        config.validate()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.padded_vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList(Block(config, i) for i in range(config.n_layer)),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.padded_vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # tied
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):  # residual projections: GPT-2's 1/sqrt(2*n_layer)
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self, non_embedding: bool = True) -> int:
        """Parameters, counting the tied embedding once; without positions when non_embedding."""
        n = sum(p.numel() for p in self.parameters())
        return n - self.transformer.wpe.weight.numel() if non_embedding else n

    def flops_per_token(self, T: int | None = None) -> float:
        """Training FLOPs per token (forward + backward): 6N for the weights (PaLM, appendix B) plus
        the attention scores, 12 * n_embd * (keys seen) per layer; a banded layer sees at most its band."""
        cfg, T = self.config, T or self.config.block_size
        attn = sum(12 * cfg.n_embd * min(T, cfg.layer_window(i) or T) for i in range(cfg.n_layer))
        return 6 * self.num_params() + attn

    def _layer_masks(self, T: int, attn_mask: torch.Tensor | None,
                     cache: KVCache | None, device) -> dict | None:
        """Per band width (None = dense), the boolean (B or 1, T, keys) mask of queries over keys:
        causal, within the band, and `attn_mask`. None when plain causal attention over the input
        will do (the fast SDPA / flex paths). A query may always see itself, so no row is empty
        (an all-False row would make SDPA return NaN for padding positions)."""
        if attn_mask is None and (cache is None or cache.length == 0):
            return None
        offset = cache.length if cache is not None else 0
        q_idx = torch.arange(offset, offset + T, device=device)[:, None]
        k_idx = torch.arange(offset + T, device=device)[None, :]
        causal = k_idx <= q_idx
        user = attn_mask if attn_mask is not None else torch.ones(1, 1, offset + T, dtype=torch.bool, device=device)
        masks = {}
        for window in {self.config.layer_window(i) for i in range(self.config.n_layer)}:
            keep = causal if window is None else causal & (q_idx - k_idx < window)
            masks[window] = (keep & user) | (k_idx == q_idx)
        return masks

    def hidden_states(self, idx: torch.Tensor, *, attn_mask: torch.Tensor | None = None,
                      position_ids: torch.Tensor | None = None,
                      cache: KVCache | None = None) -> torch.Tensor:
        """The final LayerNorm's output (B, T, n_embd), what lm_head reads.

        attn_mask: bool (B, T, keys), True where query i may attend key j; ANDed with the causal
            mask and each layer's band. With a cache, keys are every cached position plus idx.
        position_ids: long (B, T); default: consecutive from the cache's length (or 0).
        cache: a KVCache to read earlier positions from and store these in (generation)."""
        B, T = idx.size()
        offset = cache.length if cache is not None else 0
        if offset + T > self.config.block_size:
            raise ValueError(f"sequence of {offset + T} tokens is longer than block_size {self.config.block_size}")
        if position_ids is None:
            position_ids = torch.arange(offset, offset + T, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(position_ids))
        masks = self._layer_masks(T, attn_mask, cache, idx.device)
        for i, block in enumerate(self.transformer.h):
            x = block(x, None if masks is None else masks[self.config.layer_window(i)], cache)
        if cache is not None:
            cache.length += T
        return self.transformer.ln_f(x)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, *,
                attn_mask: torch.Tensor | None = None, position_ids: torch.Tensor | None = None,
                cache: KVCache | None = None):
        """Logits (B, T, padded vocab) and, given targets (-1 ignored), the mean cross-entropy."""
        x = self.hidden_states(idx, attn_mask=attn_mask, position_ids=position_ids, cache=cache)
        logits = self.lm_head(x)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1),
                                   ignore_index=-1)
        return logits, loss

    def resize_vocab(self, new_vocab_size: int, generator: torch.Generator | None = None) -> None:
        """Grow the vocabulary to `new_vocab_size` (tokens added for fine-tuning or chat).

        The new ids land in rows that were padding during pre-training, where the softmax pushed
        them down; they are re-initialised N(0, 0.02) as GPT-1's code did for its new tokens. The
        tied embedding grows to the next multiple of 64 when needed."""
        old = self.config.vocab_size
        if new_vocab_size < old:
            raise ValueError(f"resize_vocab cannot shrink the vocabulary ({old} -> {new_vocab_size})")
        if new_vocab_size == old:
            return
        self.config.vocab_size = new_vocab_size
        weight = self.lm_head.weight
        rows = self.config.padded_vocab_size
        with torch.no_grad():
            if rows > weight.size(0):
                grown = torch.zeros(rows, weight.size(1), device=weight.device, dtype=weight.dtype)
                grown[: weight.size(0)] = weight
                weight = nn.Parameter(grown)
                self.lm_head.weight = weight
                self.transformer.wte.weight = weight
                self.lm_head.out_features = self.transformer.wte.num_embeddings = rows
            fresh = torch.randn(rows - old, weight.size(1), generator=generator, dtype=torch.float32) * 0.02
            weight[old:] = fresh.to(device=weight.device, dtype=weight.dtype)

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, generator: torch.Generator | None = None, *,
                 eos_id: int | None = None, prompt_mask: torch.Tensor | None = None,
                 use_cache: bool | None = None) -> torch.Tensor:
        """Sample max_new_tokens after idx (B, T); never samples a padding id of the vocabulary.

        idx may be left-padded, with prompt_mask (B, T) True on real tokens: padding is never
        attended and positions count real tokens only. A row that emitted eos_id keeps emitting it.
        use_cache: True computes each position once (refuses T + max_new_tokens > block_size);
        False recomputes the whole context per token, cropped to the last block_size tokens;
        None (default) uses the cache whenever the whole sequence fits."""
        B, T = idx.size()
        fits = T + max_new_tokens <= self.config.block_size
        if use_cache is None:
            use_cache = fits
        if use_cache and not fits:
            raise ValueError(f"prompt ({T}) + new tokens ({max_new_tokens}) exceed block_size "
                             f"{self.config.block_size}")
        if prompt_mask is None:
            prompt_mask = torch.ones_like(idx, dtype=torch.bool)
        key_mask = torch.cat([prompt_mask.bool(), prompt_mask.new_ones(B, max_new_tokens, dtype=torch.bool)], 1)
        positions = (key_mask.long().cumsum(1) - 1).clamp(min=0)
        finished = torch.zeros(B, dtype=torch.bool, device=idx.device)
        cache = KVCache(self.config, B, T + max_new_tokens, idx.device, self.lm_head.weight.dtype) if use_cache else None
        new_tokens = idx
        for _ in range(max_new_tokens):
            start = idx.size(1) - new_tokens.size(1) if use_cache else max(0, idx.size(1) - self.config.block_size)
            end = idx.size(1)
            keys = key_mask[:, :end] if use_cache else key_mask[:, start:end]
            # Without a cache the window may have slid: positions restart at its first real token.
            pos = positions[:, start:end] if use_cache else (keys.long().cumsum(1) - 1).clamp(min=0)
            logits, _ = self(new_tokens if use_cache else idx[:, start:], cache=cache,
                             attn_mask=keys[:, None, :].expand(B, end - start, keys.size(1)),
                             position_ids=pos)
            logits = logits[:, -1, : self.config.vocab_size].float()
            if temperature <= 0:
                nxt = logits.argmax(dim=-1, keepdim=True)
            else:
                logits = logits / temperature
                if top_k:
                    kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, [-1]]
                    logits[logits < kth] = -float("inf")
                probs = F.softmax(logits, dim=-1)
                nxt = torch.multinomial(probs, num_samples=1, generator=generator)
            if eos_id is not None:
                nxt[finished] = eos_id
                finished |= nxt.squeeze(1) == eos_id
            idx = torch.cat((idx, nxt), dim=1)
            new_tokens = nxt
        return idx
