#!/usr/bin/env python3
"""Build the training corpus: the King James Bible (public domain), from Debian's
bible-kjv / bible-kjv-text packages, dumped with their `bible` program.

Layout: one document per chapter,

    Genesis 1
    1 In the beginning God created the heaven and the earth.
    2 And the earth was without form, ...

documents separated by one blank line. Every 20th chapter (global chapter index
i with i % 20 == 19, i.e. 59 of the 1189 chapters) is held out for evaluation
(heldout.txt); the rest is train.txt.

usage: corpus.py OUTDIR            (writes OUTDIR/train.txt, OUTDIR/heldout.txt)
"""
import re
import subprocess
import sys
from pathlib import Path

BOOKS = [  # (abbreviation printed by `bible`, full name)
    ("Ge", "Genesis"), ("Exo", "Exodus"), ("Lev", "Leviticus"), ("Num", "Numbers"),
    ("Deu", "Deuteronomy"), ("Josh", "Joshua"), ("Jdgs", "Judges"), ("Ruth", "Ruth"),
    ("1Sm", "1 Samuel"), ("2Sm", "2 Samuel"), ("1Ki", "1 Kings"), ("2Ki", "2 Kings"),
    ("1Chr", "1 Chronicles"), ("2Chr", "2 Chronicles"), ("Ezra", "Ezra"), ("Neh", "Nehemiah"),
    ("Est", "Esther"), ("Job", "Job"), ("Psa", "Psalms"), ("Prv", "Proverbs"),
    ("Eccl", "Ecclesiastes"), ("SSol", "Song of Solomon"), ("Isa", "Isaiah"), ("Jer", "Jeremiah"),
    ("Lam", "Lamentations"), ("Eze", "Ezekiel"), ("Dan", "Daniel"), ("Hos", "Hosea"),
    ("Joel", "Joel"), ("Amos", "Amos"), ("Obad", "Obadiah"), ("Jonah", "Jonah"),
    ("Mic", "Micah"), ("Nahum", "Nahum"), ("Hab", "Habakkuk"), ("Zep", "Zephaniah"),
    ("Hag", "Haggai"), ("Zec", "Zechariah"), ("Mal", "Malachi"), ("Mat", "Matthew"),
    ("Mark", "Mark"), ("Luke", "Luke"), ("John", "John"), ("Acts", "Acts"),
    ("Rom", "Romans"), ("1Cor", "1 Corinthians"), ("2Cor", "2 Corinthians"), ("Gal", "Galatians"),
    ("Eph", "Ephesians"), ("Phi", "Philippians"), ("Col", "Colossians"), ("1Th", "1 Thessalonians"),
    ("2Th", "2 Thessalonians"), ("1Tim", "1 Timothy"), ("2Tim", "2 Timothy"), ("Titus", "Titus"),
    ("Phmn", "Philemon"), ("Heb", "Hebrews"), ("Jas", "James"), ("1Pet", "1 Peter"),
    ("2Pet", "2 Peter"), ("1Jn", "1 John"), ("2Jn", "2 John"), ("3Jn", "3 John"),
    ("Jude", "Jude"), ("Rev", "Revelation"),
]
HELDOUT_EVERY = 20


def dump_kjv():
    """All 31102 verses, one per line: 'Ge1:1 In the beginning ...'."""
    out = subprocess.run(["bible", "-f", "Gen1:1-Rev22:21"], check=True,
                         capture_output=True, text=True, encoding="utf-8").stdout
    return [l for l in out.split("\n") if l.strip()]


def chapters(lines):
    names = dict(BOOKS)
    verse_re = re.compile(r"^(\d?[A-Za-z]+)(\d+):(\d+) (.*)$")
    docs, key, cur = [], None, []
    for line in lines:
        m = verse_re.match(line)
        if not m:
            raise SystemExit(f"corpus.py: unexpected line from bible: {line[:80]!r}")
        book, ch, vs, text = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4).strip()
        if (book, ch) != key:
            if cur:
                docs.append("\n".join(cur))
            key = (book, ch)
            cur = [f"{names[book]} {ch}"]
        cur.append(f"{vs} {text}")
    if cur:
        docs.append("\n".join(cur))
    return docs


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    outdir = Path(sys.argv[1])
    outdir.mkdir(parents=True, exist_ok=True)
    docs = chapters(dump_kjv())
    train = [d for i, d in enumerate(docs) if i % HELDOUT_EVERY != HELDOUT_EVERY - 1]
    held = [d for i, d in enumerate(docs) if i % HELDOUT_EVERY == HELDOUT_EVERY - 1]
    (outdir / "train.txt").write_text("\n\n".join(train) + "\n", encoding="utf-8")
    (outdir / "heldout.txt").write_text("\n\n".join(held) + "\n", encoding="utf-8")
    print(f"{len(docs)} chapters: {len(train)} train ({sum(map(len, train))} chars), "
          f"{len(held)} held out ({sum(map(len, held))} chars)")


if __name__ == "__main__":
    main()
