"""The model's extensions for evaluation, fine-tuning and instruction tuning: the KV cache,
left-padded generation, packed examples (attention mask + positions), vocabulary growth, and the
shared padding / packing / special-token helpers."""
import pytest
import torch
from tokenizers import Tokenizer, models

from training.batching import (block_diagonal_mask, length_sorted_batches, pack_examples,
                               pad_sequences)
from training.model import GPT, GPTConfig, KVCache
from training.special_tokens import (add_special_tokens, check_tokenizer_compatible,
                                     extend_model_vocab, tokenizer_identity)
from training.checkpoint import CheckpointError

PATTERNS = [["dense"], ["dense", "banded"]]


def model(pattern, **kw):
    torch.manual_seed(0)
    cfg = GPTConfig(vocab_size=90, block_size=64, n_layer=2, n_head=2, n_embd=32,
                    attn_pattern=pattern, band_width=6, **kw)
    return GPT(cfg).eval()


@pytest.mark.parametrize("pattern", PATTERNS)
def test_cached_logits_equal_full_forward(pattern):
    m = model(pattern)
    idx = torch.randint(0, 90, (2, 40))
    full, _ = m(idx)
    cache = KVCache(m.config, 2, 64, "cpu", torch.float32)
    parts = [m(idx[:, a:b], cache=cache)[0] for a, b in ((0, 17), (17, 18), (18, 40))]
    assert torch.allclose(full, torch.cat(parts, 1), atol=1e-5)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_greedy_tokens_equal_with_and_without_cache(pattern):
    m = model(pattern)
    idx = torch.randint(0, 90, (3, 9))
    with_cache = m.generate(idx, 40, temperature=0, use_cache=True)
    without = m.generate(idx, 40, temperature=0, use_cache=False)
    assert torch.equal(with_cache, without)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_left_padded_rows_generate_as_if_alone(pattern):
    m = model(pattern)
    idx = torch.randint(0, 90, (2, 12))
    mask = torch.ones(2, 12, dtype=torch.bool)
    mask[1, :5] = False
    batched = m.generate(idx, 15, temperature=0, prompt_mask=mask)
    alone = m.generate(idx[1:, 5:], 15, temperature=0)
    assert torch.equal(batched[1, 12:], alone[0, 7:])
    assert torch.equal(batched[0], m.generate(idx[:1], 15, temperature=0)[0])


def test_cache_refuses_more_than_block_size_and_eos_sticks():
    m = model(["dense"])
    with pytest.raises(ValueError, match="block_size"):
        m.generate(torch.zeros(1, 60, dtype=torch.long), 10, use_cache=True)
    out = m.generate(torch.zeros(1, 60, dtype=torch.long), 10)  # sliding window without the cache
    assert out.shape == (1, 70)
    first = int(m.generate(torch.zeros(1, 3, dtype=torch.long), 1, temperature=0)[0, -1])
    out = m.generate(torch.zeros(1, 3, dtype=torch.long), 6, temperature=0, eos_id=first)
    assert out[0, 3:].tolist() == [first] * 6


@pytest.mark.parametrize("pattern", PATTERNS)
def test_packed_loss_equals_per_example_loss(pattern):
    m = model(pattern)
    g = torch.Generator().manual_seed(1)
    examples = []
    for n in (7, 12, 5, 20):
        ids = torch.randint(0, 90, (n,), generator=g).tolist()
        mask = [i >= n // 3 for i in range(n)]  # the "response": the last two thirds
        examples.append((ids, mask))
    packed = pack_examples(examples, block_size=32, pad_id=0)
    assert packed.input_ids.size(0) < len(examples)  # several examples share a row
    _, packed_loss = m(packed.input_ids, packed.targets, attn_mask=packed.attn_mask,
                       position_ids=packed.position_ids)
    total, count = 0.0, 0
    for ids, mask in examples:
        x = torch.tensor([ids])
        y = torch.tensor([[t if keep else -1 for t, keep in zip(ids[1:], mask[1:])] + [-1]])
        _, loss = m(x, y)
        n = int((y >= 0).sum())
        total, count = total + float(loss) * n, count + n
    assert float(packed_loss) == pytest.approx(total / count, rel=1e-5)


def test_block_diagonal_mask_and_padding_helpers():
    seg = torch.tensor([[0, 0, 1, -1]])
    mask = block_diagonal_mask(seg)[0]
    assert mask.tolist() == [[True, True, False, False], [True, True, False, False],
                             [False, False, True, False], [False, False, False, False]]
    assert pad_sequences([[1, 2], [3]], 0).tolist() == [[1, 2], [3, 0]]
    assert pad_sequences([[1, 2], [3]], 0, side="left", length=3).tolist() == [[0, 1, 2], [0, 0, 3]]
    lengths = [5, 1, 4, 2, 3, 6]
    batches = length_sorted_batches(lengths, 2, seed=3)
    assert {tuple(sorted(b)) for b in batches} == {(1, 3), (2, 4), (0, 5)}  # lengths 1-2, 3-4, 5-6
    assert batches == length_sorted_batches(lengths, 2, seed=3)


def test_resize_vocab_keeps_old_rows_and_reinitialises_new_ones():
    m = model(["dense"])
    before = m.lm_head.weight.detach().clone()
    m.resize_vocab(130, generator=torch.Generator().manual_seed(0))
    assert m.config.vocab_size == 130 and m.lm_head.weight.size(0) == 192
    assert m.transformer.wte.weight is m.lm_head.weight
    assert torch.equal(m.lm_head.weight[:90], before[:90])
    new = m.lm_head.weight[90:130]
    assert 0.01 < float(new.std()) < 0.03
    logits, _ = m(torch.tensor([[1, 129]]))
    assert logits.shape == (1, 2, 192)


def test_special_tokens_are_added_once_and_identity_checks_the_base():
    tok = Tokenizer(models.WordLevel({"a": 0, "b": 1, "[UNK]": 2}, unk_token="[UNK]"))
    ids = add_special_tokens(tok, ["<s>", "<e>"])
    assert ids == add_special_tokens(tok, ["<s>", "<e>"]) == {"<s>": 3, "<e>": 4}
    small = GPT(GPTConfig(vocab_size=3, block_size=8, n_layer=1, n_head=1, n_embd=8))
    extend_model_vocab(small, tok)
    assert small.config.vocab_size == 5
    ident = tokenizer_identity("ab" * 32, ["<s>", "<e>"])
    check_tokenizer_compatible(ident, "ab" * 32, "ckpt")
    with pytest.raises(CheckpointError, match="tokenizer differs"):
        check_tokenizer_compatible(ident, "cd" * 32, "ckpt")
