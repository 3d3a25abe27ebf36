"""The one chat format of SFT, the reward model, PPO and `train sample --chat`.

A conversation is a list of (role, text) turns, role "user" or "assistant", alternating and starting
with the user. It is written with three special tokens added to the pre-trained tokenizer (and rows
added to the embedding, GPT.resize_vocab):

    <|user|>{user text}<|end|><|assistant|>{assistant text}<|end|><|user|>...

A prompt is every turn up to the last user turn, followed by <|assistant|>; the response is the
assistant's text followed by <|end|>, the end-of-sequence token: generation stops there and the reward
model reads its score there. Plain text between the tokens is tokenized as the base tokenizer does, so
the pre-trained model sees familiar ids. A literal "<|end|>" typed inside a turn would be read as the
special token; such text is rare in the data and is not escaped.
"""
from __future__ import annotations

from dataclasses import dataclass

from tokenizers import Tokenizer

from training.special_tokens import add_special_tokens

USER, ASSISTANT, END = "<|user|>", "<|assistant|>", "<|end|>"
CHAT_TOKENS = [USER, ASSISTANT, END]
ROLES = ("user", "assistant")

Turn = tuple[str, str]  # (role, text)


@dataclass(frozen=True)
class ChatFormat:
    tokenizer: Tokenizer
    user: int
    assistant: int
    end: int

    @classmethod
    def attach(cls, tokenizer: Tokenizer) -> "ChatFormat":
        """Add the chat tokens to `tokenizer` (idempotent: an SFT checkpoint's tokenizer has them)."""
        ids = add_special_tokens(tokenizer, CHAT_TOKENS)
        return cls(tokenizer, ids[USER], ids[ASSISTANT], ids[END])

    def text_ids(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def _turn(self, role: str, text: str) -> list[int]:
        return [self.user if role == "user" else self.assistant] + self.text_ids(text) + [self.end]

    def prompt_ids(self, turns: list[Turn]) -> list[int]:
        """Turns ending with a user turn, then <|assistant|>: what the policy continues."""
        ids: list[int] = []
        for role, text in turns:
            ids += self._turn(role, text)
        return ids + [self.assistant]

    def response_ids(self, text: str) -> list[int]:
        return self.text_ids(text) + [self.end]

    def example(self, turns: list[Turn]) -> tuple[list[int], list[bool]]:
        """(ids, loss mask) of a whole conversation: the mask is True on every assistant turn's text
        and its <|end|> (the tokens SFT learns to produce), False on user turns and role tokens."""
        ids: list[int] = []
        mask: list[bool] = []
        for role, text in turns:
            if role == "user":
                part = self._turn(role, text)
                ids += part
                mask += [False] * len(part)
            else:
                part = self.response_ids(text)
                ids += [self.assistant] + part
                mask += [False] + [True] * len(part)
        return ids, mask

    def decode_response(self, ids: list[int]) -> str:
        """The text of generated ids, cut at the first <|end|>."""
        if self.end in ids:
            ids = ids[: ids.index(self.end)]
        return self.tokenizer.decode(ids)

    def render(self, turns: list[Turn]) -> str:
        """The template as text (documentation and debugging)."""
        return "".join((USER if r == "user" else ASSISTANT) + t + END for r, t in turns)
