"""Write `ttt_read/ask/synonyms.tsv`, the WordNet synonyms `ask` looks a question's words up in.

The table ships with the package so that every machine answers the same question the same
way (a dictionary that is only sometimes installed would change the answers, and the
rankers are fitted with it). It holds the words that technical English uses, counted in the
manuals given (at least `--min-count` times, as `synonyms.lemma` reduces them), each with the lemmas
of its first senses as a verb, a noun and an adjective; a word with none is still listed, so
that `synonyms.lemma` knows it as a dictionary form. Needs WordNet's database files (Debian's
`wordnet-base` puts them in /usr/share/wordnet). Run from the repository root:

    python tools/build_synonyms.py /usr/share/wordnet /usr/share/doc/python3.11/html \
        /usr/share/doc/postgresql-doc-15/html /usr/share/info /usr/share/man
"""

from __future__ import annotations

import argparse
import gzip
import html
import re
from collections import Counter
from pathlib import Path

from ttt_read.ask.synonyms import MAX_SYNONYMS, dictionary_form

REPO = Path(__file__).resolve().parents[1]
TABLE = REPO / "ttt_read" / "ask" / "synonyms.tsv"
SENSES = 3  # the first senses of a word only: later ones are rare and drift off
PARTS_OF_SPEECH = ("verb", "noun", "adj")
LICENCE = """\
# Synonyms from WordNet 3.0, written by tools/build_synonyms.py: a word, a tab, its synonyms.
# WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.
# Permission to use, copy, modify and distribute this software and database and its
# documentation for any purpose and without fee or royalty is hereby granted, provided that
# you agree to comply with the following copyright notice and statements, including the
# disclaimer, and that the same appear on ALL copies of the software, database and
# documentation, including modifications that you make for internal use or for distribution.
# THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO
# REPRESENTATIONS OR WARRANTIES, EXPRESS OR IMPLIED. BY WAY OF EXAMPLE, BUT NOT LIMITATION,
# PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES OF MERCHANTABILITY OR FITNESS
# FOR ANY PARTICULAR PURPOSE OR THAT THE USE OF THE LICENSED SOFTWARE, DATABASE OR
# DOCUMENTATION WILL NOT INFRINGE ANY THIRD PARTY PATENTS, COPYRIGHTS, TRADEMARKS OR OTHER
# RIGHTS. The name of Princeton University or Princeton may not be used in advertising or
# publicity pertaining to distribution of the software and/or database. Title to copyright in
# this software, database and any associated documentation shall at all times remain with
# Princeton University and LICENSEE agrees to preserve same.
"""


def read_wordnet(directory: Path) -> dict[str, list[str]]:
    """Each single-word lemma of WordNet's verbs, nouns and adjectives with the other lemmas of
    its first senses, verb senses first, each in the order WordNet ranks them."""
    synonyms: dict[str, list[str]] = {}
    for pos in PARTS_OF_SPEECH:
        data = (directory / f"data.{pos}").read_bytes()
        for line in (directory / f"index.{pos}").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("  "):  # the licence at the top
                continue
            fields = line.split()
            word, n_synsets = fields[0], int(fields[2])
            if not word.isalpha():
                continue
            found = synonyms.setdefault(word, [])
            for offset in fields[-n_synsets:][:SENSES]:
                start = int(offset)
                entry = data[start : data.index(b"\n", start)].split()
                for i in range(int(entry[3], 16)):
                    lemma = entry[4 + 2 * i].decode("utf-8", "replace").lower().split("(")[0]
                    if lemma != word and "_" not in lemma and lemma not in found:
                        found.append(lemma)
    return synonyms


def _text(path: Path) -> str:
    raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    text = raw.decode("utf-8", "replace")
    return html.unescape(re.sub(r"<[^>]+>", " ", text)) if ".htm" in path.name else text


def word_counts(paths: list[Path]) -> Counter:
    counts: Counter = Counter()
    for root in paths:
        for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if path.is_file():
                counts.update(w.lower() for w in re.findall(r"[A-Za-z]{3,}", _text(path)))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wordnet", type=Path, help="WordNet's dict directory (index.verb, data.verb, ...)")
    parser.add_argument("manuals", type=Path, nargs="+", help="text, HTML or .gz files and folders to count in")
    parser.add_argument("--min-count", type=int, default=2)
    args = parser.parse_args()
    wordnet = read_wordnet(args.wordnet)
    forms: Counter = Counter()
    for word, n in word_counts(args.manuals).items():
        forms[dictionary_form(word, wordnet)] += n
    words = {w for w, n in forms.items() if n >= args.min_count and w in wordnet}
    lines = [f"{w}\t{' '.join(wordnet[w][:MAX_SYNONYMS])}" for w in sorted(words)]
    TABLE.write_text(LICENCE + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{TABLE.relative_to(REPO)}: {len(lines)} words, {TABLE.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
