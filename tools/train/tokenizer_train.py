#!/usr/bin/env python3
"""Byte-level BPE tokenizer with the DeepSeek-V3 pre-tokenizer, trained by our own code.

Id layout (vocab_size 4096 by default):
    0, 1, 2          <｜begin▁of▁sentence｜>, <｜end▁of▁sentence｜>, <｜▁pad▁｜>   (in model.vocab, as in V3)
    3 .. 258         the 256 single-byte tokens (ByteLevel alphabet, in byte-value order)
    259 .. V-16      one token per merge, in the order learned (merge rank r -> id 259 + r)
    V-15 .. V-1      the DeepSeek-V3 chat/tool/FIM added tokens (<｜User｜>, <｜Assistant｜>, ...),
                     same contents and flags as in the V3 tokenizer.json (only in added_tokens)

The pre-tokenizer (three Split regexes, Isolated, then ByteLevel without regex), the
decoder and post-processor are copied from the DeepSeek-V3 tokenizer.json, so any
Hugging Face tokenizer.json loader handles the file. Merges are learned greedily: at each
step the most frequent adjacent pair over the pre-tokenized training words (ties: the
lexicographically smallest pair) is merged everywhere.

usage:
    tokenizer_train.py train --corpus DIR --v3-tokenizer DIR --out DIR [--vocab-size 4096]
        writes DIR/tokenizer.json, DIR/tokenizer_config.json
    tokenizer_train.py encode --tokenizer DIR --corpus DIR --out DIR
        encodes train.txt / heldout.txt into uint16 token streams train.bin / heldout.bin
        (documents = blank-line separated chapters, each framed BOS ... EOS; a seeded quarter
        of the training chapters is written in the chat template instead: see chat_doc)
        and checks that decode(encode(text)) == text for the whole held-out file.
"""
import argparse
import collections
import json
import random
import sys
from pathlib import Path

import regex

BOS, EOS, PAD = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>"
USER, ASSISTANT = "<｜User｜>", "<｜Assistant｜>"
# Added tokens after the BPE vocabulary, in the V3 order (V3 ids 128800..128814).
V3_TAIL_TOKENS = [
    "<｜fim▁hole｜>", "<｜fim▁begin｜>", "<｜fim▁end｜>", USER, ASSISTANT, "<|EOT|>",
    "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>", "<｜tool▁call▁begin｜>",
    "<｜tool▁call▁end｜>", "<｜tool▁outputs▁begin｜>", "<｜tool▁outputs▁end｜>",
    "<｜tool▁output▁begin｜>", "<｜tool▁output▁end｜>", "<｜tool▁sep｜>",
]
N_HEAD_SPECIAL = 3
N_BYTES = 256


def byte_alphabet():
    """GPT-2 ByteLevel map: printable latin-1 bytes map to themselves, the others to 256+n."""
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, n = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + n)
            n += 1
    return table


BYTE_TO_CHAR = byte_alphabet()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


class PreTokenizer:
    """The DeepSeek-V3 pre-tokenizer: a Sequence of Split(Isolated) regexes, then ByteLevel."""

    def __init__(self, pre_tokenizer_json):
        assert pre_tokenizer_json["type"] == "Sequence"
        self.patterns = []
        for p in pre_tokenizer_json["pretokenizers"]:
            if p["type"] == "Split":
                assert p["behavior"] == "Isolated" and not p["invert"]
                self.patterns.append(regex.compile(p["pattern"]["Regex"]))
            else:
                assert p["type"] == "ByteLevel" and not p["add_prefix_space"] and not p["use_regex"]

    def split(self, text):
        pieces = [text]
        for pat in self.patterns:
            out = []
            for piece in pieces:
                pos = 0
                for m in pat.finditer(piece):
                    if m.start() > pos:
                        out.append(piece[pos:m.start()])
                    if m.end() > m.start():
                        out.append(m.group())
                    pos = m.end()
                if pos < len(piece):
                    out.append(piece[pos:])
            pieces = out
        return ["".join(BYTE_TO_CHAR[b] for b in p.encode("utf-8")) for p in pieces]


def learn_merges(word_freq, n_merges, log_every=500):
    words = [list(w) for w in word_freq]
    freqs = list(word_freq.values())
    pair_count = collections.Counter()
    pair_where = collections.defaultdict(set)
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += freqs[i]
            pair_where[(a, b)].add(i)
    merges = []
    for step in range(n_merges):
        if not pair_count:
            break
        best = min(pair_count.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if pair_count[best] <= 0:
            break
        merges.append(best)
        a, b = best
        new = a + b
        for i in list(pair_where[best]):
            w, f = words[i], freqs[i]
            for x, y in zip(w, w[1:]):  # remove old pairs of this word
                pair_count[(x, y)] -= f
                if pair_count[(x, y)] <= 0:
                    del pair_count[(x, y)]
            out, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(new)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for x, y in zip(out, out[1:]):
                pair_count[(x, y)] += f
                pair_where[(x, y)].add(i)
        del pair_where[best]
        if log_every and (step + 1) % log_every == 0:
            print(f"  merge {step + 1}/{n_merges}: {new!r}", file=sys.stderr)
    return merges


def build_tokenizer_json(v3, merges):
    vocab = {BOS: 0, EOS: 1, PAD: 2}
    for b in range(256):
        vocab[BYTE_TO_CHAR[b]] = N_HEAD_SPECIAL + b
    for a, b in merges:
        vocab[a + b] = len(vocab)
    v3_added = {t["content"]: t for t in v3["added_tokens"]}
    added = []
    for content, idx in [(BOS, 0), (EOS, 1), (PAD, 2)] + \
            [(c, len(vocab) + k) for k, c in enumerate(V3_TAIL_TOKENS)]:
        t = dict(v3_added[content])  # same flags (special, normalized, ...) as in V3
        t["id"] = idx
        added.append(t)
    return {
        "version": v3["version"],
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": v3["normalizer"],
        "pre_tokenizer": v3["pre_tokenizer"],
        "post_processor": v3["post_processor"],
        "decoder": v3["decoder"],
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None,
            "continuing_subword_prefix": None, "end_of_word_suffix": None,
            "fuse_unk": False, "byte_fallback": False,
            "vocab": vocab,
            "merges": [f"{a} {b}" for a, b in merges],
        },
    }


def build_tokenizer_config(v3_config, model_max_length):
    cfg = dict(v3_config)
    cfg["model_max_length"] = model_max_length
    return cfg


class Tokenizer:
    """Our own encoder/decoder for the tokenizer.json written above."""

    def __init__(self, tokenizer_dir):
        tj = json.loads((Path(tokenizer_dir) / "tokenizer.json").read_text(encoding="utf-8"))
        self.pre = PreTokenizer(tj["pre_tokenizer"])
        self.vocab = dict(tj["model"]["vocab"])
        self.rank = {tuple(m.split(" ")): r for r, m in enumerate(tj["model"]["merges"])}
        self.added = {t["content"]: t["id"] for t in tj["added_tokens"]}
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.id_to_token.update({i: t for t, i in self.added.items()})
        self.vocab_size = max(self.id_to_token) + 1
        self.special_re = regex.compile("|".join(regex.escape(t) for t in
                                                 sorted(self.added, key=len, reverse=True)))
        self.cache = {}
        self.bos_id, self.eos_id = self.added[BOS], self.added[EOS]

    def bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            best, best_rank = None, None
            for j in range(len(parts) - 1):
                r = self.rank.get((parts[j], parts[j + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = j, r
            if best is None:
                break
            a, b = parts[best], parts[best + 1]
            out, j = [], 0
            while j < len(parts):  # merge every occurrence of the best pair, left to right
                if j + 1 < len(parts) and parts[j] == a and parts[j + 1] == b:
                    out.append(a + b)
                    j += 2
                else:
                    out.append(parts[j])
                    j += 1
            parts = out
        ids = [self.vocab[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        """Text -> ids; added tokens written in the text become single ids; no BOS added."""
        ids, pos = [], 0
        for m in self.special_re.finditer(text):
            ids += self._encode_plain(text[pos:m.start()])
            ids.append(self.added[m.group()])
            pos = m.end()
        ids += self._encode_plain(text[pos:])
        return ids

    def _encode_plain(self, text):
        ids = []
        for w in self.pre.split(text):
            ids += self.bpe(w)
        return ids

    def decode(self, ids):
        out, buf = [], bytearray()
        for i in ids:
            t = self.id_to_token[i]
            if t in self.added:
                out.append(buf.decode("utf-8", errors="replace"))
                buf = bytearray()
                out.append(t)
            else:
                buf += bytes(CHAR_TO_BYTE[c] for c in t)
        out.append(buf.decode("utf-8", errors="replace"))
        return "".join(out)


def split_docs(text):
    return [d for d in text.strip("\n").split("\n\n") if d]


def chat_doc(doc):
    """A chapter written as one chat turn: the user names the chapter, the assistant recites it."""
    heading, body = doc.split("\n", 1)
    return f"{USER}{heading}{ASSISTANT}{body}"


def cmd_train(args):
    v3_dir = Path(args.v3_tokenizer)
    v3 = json.loads((v3_dir / "tokenizer.json").read_text(encoding="utf-8"))
    v3_cfg = json.loads((v3_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    pre = PreTokenizer(v3["pre_tokenizer"])
    text = (Path(args.corpus) / "train.txt").read_text(encoding="utf-8")
    word_freq = collections.Counter()
    for doc in split_docs(text):
        word_freq.update(pre.split(doc))
    n_merges = args.vocab_size - N_HEAD_SPECIAL - N_BYTES - len(V3_TAIL_TOKENS)
    print(f"{len(word_freq)} distinct pre-tokens; learning {n_merges} merges", file=sys.stderr)
    merges = learn_merges(word_freq, n_merges)
    if len(merges) != n_merges:
        raise SystemExit(f"only {len(merges)} merges possible; lower --vocab-size")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tj = build_tokenizer_json(v3, merges)
    (out / "tokenizer.json").write_text(json.dumps(tj, ensure_ascii=False, indent=2) + "\n",
                                        encoding="utf-8")
    cfg = build_tokenizer_config(v3_cfg, args.model_max_length)
    (out / "tokenizer_config.json").write_text(json.dumps(cfg, ensure_ascii=False, indent=2) + "\n",
                                               encoding="utf-8")
    n = len(tj["model"]["vocab"]) + len(V3_TAIL_TOKENS)
    print(f"wrote {out}/tokenizer.json: {n} ids ({len(merges)} merges)", file=sys.stderr)


def cmd_encode(args):
    import numpy as np
    tok = Tokenizer(args.tokenizer)
    assert tok.vocab_size <= 65536
    corpus, out = Path(args.corpus), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    stats = {}
    for name in ("train", "heldout"):
        text = (corpus / f"{name}.txt").read_text(encoding="utf-8")
        if name == "heldout":  # the round-trip check, on the whole held-out text
            ids = tok.encode(text)
            if tok.decode(ids) != text:
                raise SystemExit("round trip of heldout.txt FAILED")
            print(f"heldout.txt round trip OK: {len(text)} chars -> {len(ids)} tokens "
                  f"({len(text.encode('utf-8')) / len(ids):.2f} bytes/token)", file=sys.stderr)
        stream, n_chat = [], 0
        for doc in split_docs(text):
            if name == "train" and rng.random() < args.chat_fraction:
                doc = chat_doc(doc)
                n_chat += 1
            stream += [tok.bos_id] + tok.encode(doc) + [tok.eos_id]
        np.asarray(stream, dtype=np.uint16).tofile(out / f"{name}.bin")
        stats[name] = {"tokens": len(stream), "chars": len(text), "chat_docs": n_chat}
        print(f"{name}: {len(stream)} tokens, {n_chat} chapters in chat form", file=sys.stderr)
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--corpus", required=True)
    t.add_argument("--v3-tokenizer", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--vocab-size", type=int, default=4096)
    t.add_argument("--model-max-length", type=int, default=1024)
    e = sub.add_parser("encode")
    e.add_argument("--tokenizer", required=True)
    e.add_argument("--corpus", required=True)
    e.add_argument("--out", required=True)
    e.add_argument("--seed", type=int, default=1234)
    e.add_argument("--chat-fraction", type=float, default=0.25)
    args = ap.parse_args()
    {"train": cmd_train, "encode": cmd_encode}[args.cmd](args)


if __name__ == "__main__":
    main()
