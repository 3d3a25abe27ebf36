"""Token files other trainers read: llm.c / nanoGPT `.bin` shards and Megatron-LM `.bin` + `.idx`.

llm.c (dev/data/data_common.py): a header of 256 little-endian int32 — magic 20240520, version (1:
uint16 tokens, 2: uint32), token count — then the tokens. Megatron-LM (core/datasets/indexed_dataset.py):
`.bin` holds the tokens of every sequence back to back; `.idx` holds the header b"MMIDIDX\\x00\\x00",
version 1 (uint64), dtype code (uint8: 8 = uint16, 4 = int32), sequence count and document count
(uint64), then int32 sequence lengths, int64 byte pointers and int64 document indices ([0, ..., n]).
These few lines are written by hand because neither project ships a writer as a library.

    python -m pipeline.tokens.exports tokens/<source> OUT_PREFIX     # a token folder, in stored order
"""
from __future__ import annotations

import argparse
import os
import shutil
import struct
import sys
import tempfile
from typing import Iterable

import numpy as np
from fsspec.implementations.local import LocalFileSystem

from pipeline.core.output import fs_path, read_bytes

LLMC_MAGIC = 20240520
LLMC_HEADER_INTS = 256
MEGATRON_HEADER = b"MMIDIDX\x00\x00"
MEGATRON_DTYPE_CODES = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}


def llmc_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= 1 << 16 else np.dtype(np.uint32)


def open_write(url: str):
    """A local path or any fsspec URL (s3://...), opened for writing."""
    fs, path = fs_path(url)
    return fs.open(path, "wb")


class LlmcWriter:
    """An llm.c token file written as a stream: the header's count is filled in on close. Object
    stores cannot seek back in a file being written, so off the local disk the tokens go to a local
    temporary file first and are uploaded behind the finished header on close."""

    def __init__(self, url: str, vocab_size: int = 50257):
        self.dtype = llmc_dtype(vocab_size)
        self.url = url
        local = isinstance(fs_path(url)[0], LocalFileSystem)
        self._fh = open_write(url) if local else tempfile.TemporaryFile()
        self._upload = not local
        self._fh.write(np.zeros(LLMC_HEADER_INTS, dtype="<i4").tobytes())
        self.count = 0

    def add(self, tokens: np.ndarray) -> None:
        self._fh.write(np.asarray(tokens).astype(self.dtype.newbyteorder("<"), copy=False).tobytes())
        self.count += len(tokens)

    def close(self) -> None:
        header = np.zeros(LLMC_HEADER_INTS, dtype="<i4")
        header[:3] = (LLMC_MAGIC, 1 if self.dtype == np.uint16 else 2, self.count)
        self._fh.seek(0)
        self._fh.write(header.tobytes())
        if self._upload:
            self._fh.seek(0)
            with open_write(self.url) as out:
                shutil.copyfileobj(self._fh, out, 8 << 20)
        self._fh.close()


def write_llmc(path: str, tokens: np.ndarray, vocab_size: int = 50257) -> None:
    writer = LlmcWriter(path, vocab_size)
    writer.add(tokens)
    writer.close()


def read_llmc(path: str) -> np.ndarray:
    data = read_bytes(path)
    header = np.frombuffer(data, dtype="<i4", count=LLMC_HEADER_INTS)
    if header[0] != LLMC_MAGIC:
        raise ValueError(f"{path}: not an llm.c token file (magic {header[0]})")
    dtype = "<u2" if header[1] == 1 else "<u4"
    tokens = np.frombuffer(data, dtype=dtype, offset=LLMC_HEADER_INTS * 4)
    if len(tokens) != header[2]:
        raise ValueError(f"{path}: header says {header[2]} tokens, file holds {len(tokens)}")
    return tokens


class MegatronWriter:
    """`prefix.bin` + `prefix.idx`, one sequence at a time; each sequence is its own document."""

    def __init__(self, prefix: str, vocab_size: int = 50257):
        self.prefix = prefix
        self.dtype = np.dtype(np.uint16) if vocab_size <= 1 << 16 else np.dtype(np.int32)
        self._bin = open_write(prefix + ".bin")
        self._lengths: list[int] = []

    def add(self, sequence: np.ndarray) -> None:
        self._bin.write(np.asarray(sequence).astype(self.dtype.newbyteorder("<"), copy=False).tobytes())
        self._lengths.append(len(sequence))

    def close(self) -> None:
        self._bin.close()
        lengths = np.array(self._lengths, dtype="<i4")
        pointers = np.zeros(len(lengths), dtype="<i8")
        if len(lengths) > 1:
            np.cumsum(lengths[:-1].astype(np.int64) * self.dtype.itemsize, out=pointers[1:])
        documents = np.arange(len(lengths) + 1, dtype="<i8")
        with open_write(self.prefix + ".idx") as fh:
            fh.write(MEGATRON_HEADER)
            fh.write(struct.pack("<Q", 1))
            fh.write(struct.pack("<B", MEGATRON_DTYPE_CODES[self.dtype]))
            fh.write(struct.pack("<Q", len(lengths)))
            fh.write(struct.pack("<Q", len(documents)))
            fh.write(lengths.tobytes())
            fh.write(pointers.tobytes())
            fh.write(documents.tobytes())


def read_megatron(prefix: str) -> list[np.ndarray]:
    """The sequences of a Megatron pair (for tests and checks)."""
    fs, idx = fs_path(prefix + ".idx")
    with fs.open(idx, "rb") as fh:
        if fh.read(9) != MEGATRON_HEADER:
            raise ValueError(f"{prefix}.idx: not a Megatron index")
        (version,) = struct.unpack("<Q", fh.read(8))
        (code,) = struct.unpack("<B", fh.read(1))
        (n_seq,) = struct.unpack("<Q", fh.read(8))
        (n_doc,) = struct.unpack("<Q", fh.read(8))
        lengths = np.frombuffer(fh.read(4 * n_seq), dtype="<i4")
        pointers = np.frombuffer(fh.read(8 * n_seq), dtype="<i8")
        np.frombuffer(fh.read(8 * n_doc), dtype="<i8")
    dtype = {code: dt for dt, code in MEGATRON_DTYPE_CODES.items()}[code]
    data = np.frombuffer(read_bytes(prefix + ".bin"), dtype=dtype.newbyteorder("<"))
    return [data[p // dtype.itemsize: p // dtype.itemsize + n] for p, n in zip(pointers, lengths)]


def export_bytes(rows: int, row_tokens: int, vocab_size: int, formats: int) -> int:
    """An upper bound of what an export of `rows` rows takes on disk: every format holds every token
    once (Parquet's compression only makes it smaller)."""
    return rows * row_tokens * llmc_dtype(vocab_size).itemsize * formats


def free_bytes(folder: str) -> int | None:
    """Free space where `folder` will be written (its nearest existing parent); None for a remote
    filesystem, whose free space the driver cannot know."""
    from fsspec.core import split_protocol

    protocol, path = split_protocol(folder)
    if protocol not in (None, "file", "local"):
        return None
    path = os.path.abspath(path)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    return shutil.disk_usage(path).free


def export_documents(documents: Iterable[np.ndarray], prefix: str, eot_id: int, vocab_size: int) -> int:
    """Documents -> `prefix.bin` (llm.c: `<|endoftext|>` before each document, as llm.c's own
    fineweb.py writes) and `prefix.megatron.bin/.idx` (one sequence per document, eot appended)."""
    llmc, megatron = LlmcWriter(prefix + ".bin", vocab_size), MegatronWriter(prefix + ".megatron", vocab_size)
    eot = np.array([eot_id])
    for doc in documents:
        llmc.add(np.concatenate([eot, doc]))
        megatron.add(np.concatenate([doc, eot]))
    llmc.close()
    megatron.close()
    return llmc.count


def export_token_folder(folder: str, prefix: str, split: str = "train") -> int:
    """One token folder (manifest.json) in stored order -> llm.c and Megatron files; token count."""
    from pipeline.tokens import bpe
    from pipeline.tokens.shards import flat_tokens, join, open_parquet, read_manifest

    manifest = read_manifest(folder)
    if manifest is None:
        raise ValueError(f"{folder} has no manifest.json (not a tokenize_corpus output)")
    tok = bpe.load(join(folder, manifest["tokenizer"]["file"]))

    def documents():
        for shard in manifest["shards"]:
            if shard["split"] != split:
                continue
            pf = open_parquet(join(folder, shard["file"]))
            for group in range(pf.num_row_groups):
                values, offsets = flat_tokens(pf.read_row_group(group, columns=["tokens"]).column("tokens"))
                for a, b in zip(offsets[:-1], offsets[1:]):
                    yield values[a:b]
    return export_documents(documents(), prefix, bpe.eot_id(tok), tok.get_vocab_size())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.tokens.exports",
                                     description="Export a token folder to llm.c .bin and Megatron .bin/.idx")
    parser.add_argument("folder", help="a tokenize_corpus output (tokens/<source>)")
    parser.add_argument("prefix", help="writes PREFIX.bin (llm.c) and PREFIX.megatron.bin/.idx")
    parser.add_argument("--split", default="train", choices=["train", "validation"])
    args = parser.parse_args(argv)
    n = export_token_folder(args.folder, args.prefix, args.split)
    print(f"{n} tokens -> {args.prefix}.bin, {args.prefix}.megatron.bin/.idx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
