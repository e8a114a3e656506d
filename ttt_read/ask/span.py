"""Grounded answers: the shortest well-formed span of the shown passages that answers.

The bundled model's preference among spans of its window is as weak as its free text, but
choosing a span is a classification over positions, which a small head learns from
synthesised questions in minutes. So an answer is picked, never written:

- Candidates are units a person accepts as an answer, cut verbatim from the passages in
  the window: the file's path, names and numbers, a definition's parameter list, the value
  after `=`, `return` or `->`, an option's description (alone and after its option), a sentence, a whole line.
- The head scores each candidate from the backbone's final hidden states at the span's
  first and last token and at the answer marker (with the snapshot's fast weights when
  the head was trained on read documents, `SpanHead.reads_memory`; else the initial
  ones, as the bundled head is), together with lexical features: the unit's kind crossed with
  what the question asks for, its overlap with the question, whether its line defines a
  name the question asks about, whether it is the name defined just above the passage's
  best line (what that line describes), whether its passage documents a command the
  question names.
- A question for a named definition's parameters ("What parameters does `f` take?") has one
  acceptable unit, `f`'s parameter list: when the window shows it, the head chooses among
  such lists only (a docstring sentence that echoes the name's words can outscore it).
- "Not found" is a logistic on the head's confidence and on how much of the question the
  shown passages cover, with a threshold calibrated on held-out answerable and
  unanswerable questions (both stored in the head file).

The head file records the backbone's fingerprint (the sha256 of its shards): a head trained
on another backbone is ignored (`load_head` says why) and grounded answers fall back to the
best-ranked line of the best passage, with "not found" decided by coverage alone.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from ttt_read.notepad.lexicon import (
    DOT_LEADER,
    OPTION,
    OPTION_ALONE,
    OPTION_LINE,
    defined_names,
    described_option,
    exact_pattern,
    exact_phrases,
    inflections,
    is_marker,
    numbered_heading,
    query_terms,
    word_terms,
)
from ttt_read.notepad.store import Notepad, Passage
from ttt_read.text import tokenizer as tok

HEAD_FILE = "span_head.safetensors"
HEAD_FORMAT = "ttt-read-span-head-1"
HIDDEN = 64  # the head's hidden layer
MAX_UNIT_CHARS = 240  # longer sentences and lines are not answers
FALLBACK_COVERAGE = 0.5  # without a head: "not found" when less of the question is covered
LONE_MARGIN = 10.0  # the score margin of a window with a single candidate
STEM = 5  # words sharing this many first letters count as one ("displays", "Display")

UNIT_KINDS = ("path", "name", "parameters", "value", "option", "sentence", "line")
QUESTION_CUES = {  # what a question asks for; several may apply
    "where": r"\bwhere\b|\bwhich file\b|\bdefined\b",
    "parameters": r"\bparameters?\b|\barguments?\b|\btakes?\b|\bsignature\b",
    "returns": r"\breturns?\b",
    "value": r"\bvalue\b|\bset to\b|\bdefault\b",
    "which_name": (
        r"^\W*(?:which|what) (?:function|method|class|command|builtin|program|utility|variable|setting|constant"
        r"|type|module|name)s?\b"
    ),
    "option": r"\boption\b|\bflag\b|\bswitch\b|(?<![\w-])--?[A-Za-z]",
    "what_is": r"^\W*what (?:is|are)\b",
    "what_does": r"^\W*what does\b",
    "how": r"^\W*how\b",
    "cloze": r"fill in the blank|____",
    "imports": r"\bimports?\b",
    "methods": r"\bmethods\b",
    "docstring": r"\bdocstring\b|\bsay\b|\bdescribe",
    "section": r"\bheading\b|\bsection\b|\bfirst sentence\b|\bchapter\b",
}
_CUES = {name: re.compile(pattern, re.I) for name, pattern in QUESTION_CUES.items()}
N_LEXICAL = len(UNIT_KINDS) * (len(QUESTION_CUES) + 1) + 24

_NAME = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*|\d[\d.,_]*\d|\d")
_DEF_PARAMS = re.compile(
    r"^\s*(?:[\w.]+\s+)*?(?:def|func|fn|function|sub)\s+(?:\([^)]*\)\s*)?[\w$.]+\s*(?:<[^>\n]*>)?\("
)
_VALUE = re.compile(r"^\s*[\w.\[\]'\"]+\s*(?::[^=\n]+)?=(?!=)\s*(\S.*?)\s*[;,]?\s*$")
_RETURN = re.compile(r"\breturn\s+(\S.*?)\s*;?\s*$")
_ARROW = re.compile(r"->\s*([^:{\n]+?)\s*[:{]?\s*$")
_SENTENCE_END = r"[.!?](?=[\s\"')\]\u2019\u201d]|$)"  # a stop before a space, a closing quote or the end
_IN_SENTENCE = r"(?:[^.!?\n]|[.!?](?![\s\"')\]\u2019\u201d]|$))"  # "ASN.1", "3.5.1", "e.g" stay inside
_SENTENCE_BODY = _IN_SENTENCE + r"*(?:\n(?![ \t]*\n)" + _IN_SENTENCE + r"*)*?" + _SENTENCE_END
_SENTENCE = re.compile(r"(?<![^\s\"'(#/*\u2018\u201c])[A-Z0-9`]" + _SENTENCE_BODY)
_FIRST_SENTENCE = re.compile(r"[ \t]*\S" + _SENTENCE_BODY)  # a paragraph's, whatever its first letter


@dataclass(frozen=True)
class Shown:
    """One passage as the window shows it: its lines lo..hi (1-based), the exact text
    encoded, and where its ids start in the window."""

    passage: Passage
    lo: int
    hi: int
    text: str
    start: int


@dataclass(frozen=True)
class Candidate:
    shown: int  # index into the shown passages
    begin: int  # character offsets in the shown text; -1 for the file's path
    end: int
    text: str
    kind: str

    def location(self, shown: Shown) -> tuple[int, int]:
        """(1-based line, 1-based column) in the file."""
        if self.begin < 0:
            return shown.passage.focus, 1
        before = shown.text[: self.begin]
        return shown.lo + before.count("\n"), self.begin - (before.rfind("\n") + 1) + 1


# --- candidates ------------------------------------------------------------------------------


def candidates(shown: list[Shown]) -> list[Candidate]:
    """Every well-formed unit of the shown passages, each (text, kind) once per passage."""
    out: list[Candidate] = []
    for index, s in enumerate(shown):
        seen: set[tuple[str, str]] = set()

        # called only within this iteration; the defaults bind this passage's values
        def add(begin: int, end: int, kind: str, *, index: int = index, s: Shown = s, seen: set = seen) -> None:
            text = s.passage.path if begin < 0 else s.text[begin:end]
            if begin >= 0:
                stripped = text.strip()
                begin += len(text) - len(text.lstrip())
                end = begin + len(stripped)
                text = stripped
            if text and len(text) <= MAX_UNIT_CHARS and (text, kind) not in seen:
                seen.add((text, kind))
                out.append(Candidate(index, begin, end, text, kind))

        add(-1, -1, "path")
        offset, lines = 0, s.text.split("\n")
        for i, line in enumerate(lines):
            _line_units(line, offset, add)
            if m := OPTION_LINE.match(line):  # its description: the line's rest, the first sentence, with its option
                description_end = _description_end(s.text, offset + m.start(2))
                add(offset + m.start(2), offset + len(line), "option")
                add(offset + m.start(2), description_end, "option")
                add(offset + m.start(1), description_end, "option")
            elif entry := described_option(lines, i):  # a man page's: the option alone on the line above
                begin = offset + len(line) - len(line.lstrip())
                description_end = _description_end(s.text, begin)
                add(begin, description_end, "option")
                above = offset - len(lines[i - 1]) - 1
                add(above + entry.start(2), description_end, "option")
            offset += len(line) + 1
        for m in _SENTENCE.finditer(s.text):
            if len(m.group(0).split()) >= 3:
                add(m.start(), m.end(), "sentence")
        for begin in _paragraph_starts(s.text):
            if (m := _FIRST_SENTENCE.match(s.text, begin)) and len(m.group(0).split()) >= 3:
                add(m.start(), m.end(), "sentence")
    return out


def _paragraph_starts(text: str) -> list[int]:
    """Offsets of lines that start a paragraph: after a blank line or a numbered heading
    (`3.3 Invoking asn1Decoding`), where a sentence may start with a lower-case name."""
    starts, offset, previous = [], 0, ""
    for line in text.split("\n"):
        if line.strip() and (not previous.strip() or numbered_heading(previous)):
            starts.append(offset)
        offset += len(line) + 1
        previous = line
    return starts


def _description_end(text: str, begin: int) -> int:
    """Where an option's description that starts at `begin` ends its first sentence: it
    may run on over the next lines, but not past a blank line or the next option."""
    stop = min(len(text), begin + MAX_UNIT_CHARS)
    for m in re.finditer(r"\n", text[begin:stop]):
        rest = text[begin + m.end() : stop].split("\n", 1)[0]
        if not rest.strip() or OPTION_LINE.match(rest) or OPTION_ALONE.match(rest):
            stop = begin + m.start()
            break
    end = re.search(_SENTENCE_END, text[begin:stop])
    return begin + end.end() if end else stop


_LINE_MARKS = re.compile(
    r"^(\s*(?:[rbuRBU]?\"\"\"|[rbuRBU]?\'\'\'|#+|//+|/\*+|\*+|--)?\s*)(.*?)\s*(?:\"\"\"|\'\'\'|\*/)?\s*$"
)
_AFTER_PARAMS = re.compile(r"\s*(?:->\s*)?([^{:;=\s][^{:;=]*?)\s*[{:;]?\s*$")


def _line_units(line: str, offset: int, add) -> None:
    content = _LINE_MARKS.match(line)
    if not re.search(r"\w", content.group(2)):
        return
    add(offset + len(content.group(1)), offset + len(content.group(1)) + len(content.group(2)), "line")
    for m in _NAME.finditer(line):
        add(offset + m.start(), offset + m.end(), "name")
    if m := _DEF_PARAMS.match(line):
        open_at, depth, close = m.end(), 1, None
        for i in range(open_at, len(line)):
            depth += {"(": 1, ")": -1}.get(line[i], 0)
            if depth == 0:
                close = i
                break
        inner = line[open_at : close if close is not None else len(line)]
        skip = re.match(r"\s*(?:self|cls)\s*(?:,\s*|$)", inner)
        start = open_at + (skip.end() if skip else 0)
        add(offset + start, offset + (close if close is not None else len(line)), "parameters")
        if close is not None and (after := _AFTER_PARAMS.match(line, close + 1)):
            add(offset + after.start(1), offset + after.end(1), "value")
    for pattern in (_VALUE, _RETURN, _ARROW):
        if m := pattern.search(line):
            add(offset + m.start(1), offset + m.end(1), "value")


# --- features --------------------------------------------------------------------------------


def question_cues(question: str) -> list[float]:
    return [1.0 if pattern.search(question) else 0.0 for pattern in _CUES.values()]


def _terms(text: str) -> set[str]:
    return {t for w in re.findall(r"\w+", text) for t in word_terms(w)}


def query_weights(notepad: Notepad | None, question: str) -> dict[str, float]:
    """The question's terms with their IDF in the snapshot; a term the snapshot never has
    weighs as much as the rarest one (it is what an unanswerable question asks about)."""
    terms = {t for t in query_terms(question) if not is_marker(t)}  # words only
    if notepad is None or not notepad.n_blocks:
        return dict.fromkeys(terms, 1.0)
    rarest = math.log(1 + (notepad.n_blocks + 0.5) / 0.5)
    return {t: (notepad.idf(t) if notepad.df_of(t) else rarest) for t in terms}


def term_share(weights: dict[str, float], text: str) -> float:
    """The IDF-weighted share of the question's terms that `text` holds, in any inflection."""
    total = sum(weights.values())
    present = _terms(text)
    found = sum(w for t, w in weights.items() if t in present or not present.isdisjoint(inflections(t)))
    return found / total if total else 0.0


def coverage(weights: dict[str, float], shown: list[Shown]) -> float:
    """The IDF-weighted share of the question's terms that the shown passages contain, as
    retrieval matches them: in any inflection ("changes" finds "Change"), and a manual's
    passage also speaks of the command whose option list it is in (`Passage.owner`)."""
    return term_share(weights, "\n".join(f"{s.text}\n{s.passage.path}\n{s.passage.owner or ''}" for s in shown))


def asked_parameter_lists(question: str, shown: list[Shown], found: list[Candidate]) -> list[int]:
    """For "What parameters does `f` take?": the indices of the parameter lists on lines that
    define a name the question names, the one unit such a question accepts (the head then
    chooses among them only). Empty for any other question."""
    if not _CUES["parameters"].search(question):
        return []
    asked = {part.lower() for w in re.findall(r"[\w.]+", question) for part in [w, *w.split(".")]}  # `C.m`: m
    out = []
    for i, c in enumerate(found):
        if c.kind == "parameters":
            text = shown[c.shown].text
            start, end = text.rfind("\n", 0, c.begin) + 1, text.find("\n", c.end)
            if any(name.lower() in asked for name in defined_names(text[start : end if end >= 0 else len(text)])):
                out.append(i)
    return out


def question_literals(question: str) -> list[str]:
    """What the question quotes: `code` and "titles" (not a cloze's blanked sentence)."""
    quoted = re.findall(r"`([^`]+)`|[\"\u201c]([^\"\u201d]+)[\"\u201d]", question)
    return [a or b for a, b in quoted if (a or b).strip() and "____" not in (a or b)]


def _describes_option(lines: list[str], at: int, options: set[str]) -> bool:
    """Whether line `at` is an option list's line for one of `options` (case counts), or
    the description below such an option alone on its line."""
    if m := OPTION_LINE.match(lines[at]):
        return bool(options & set(OPTION.findall(m.group(1))))
    for entry in (at, at - 1):  # the option alone on this line, or on the line above this description
        if 0 <= entry < len(lines) - 1 and (m := described_option(lines, entry + 1)):
            return bool(options & set(OPTION.findall(m.group(2))))
    return False


def lexical_features(
    question: str, weights: dict[str, float], shown: list[Shown], found: list[Candidate]
) -> list[list[float]]:
    """One row of N_LEXICAL features per candidate (see the module docstring)."""
    cues = question_cues(question)
    total = sum(weights.values()) or 1.0
    literals = question_literals(question)
    names = {w.lower() for w in literals} | {t for t in weights}
    blank = re.search(r"(\w+)?\W*____\W*(\w+)?", question)
    verbatim = exact_phrases(question)
    options = {p for p in verbatim if p.startswith("-")}
    phrases = [exact_pattern(p) for p in verbatim if not p.startswith("-")]
    stems = {w.lower()[:STEM] for w in re.findall(r"[A-Za-z]{4,}", question)}
    asked_words = {w.lower() for w in re.findall(r"[\w.-]+", question)}
    line_cache: dict[tuple[int, int], tuple] = {}

    def overlap(text: str) -> float:
        return sum(weights[t] for t in _terms(text) if t in weights) / total

    def asked_about(line: str) -> bool:
        """The line defines a name the question asks about, or quotes what it quotes."""
        return any(lit in line for lit in literals) or any(
            n.lower() in names or any(t in weights for t in word_terms(n)[:1]) for n in defined_names(line)
        )

    def line_facts(index: int, line_no: int) -> tuple:
        """Facts about a candidate's line: its query overlap, that of it and the 3 lines
        below, whether it defines a queried name, whether it or the 3 lines above quote
        the question, how close below a line the question asks about it is, the names it
        defines, the query overlap of the 3 lines below it (a synopsis above its
        description), whether it is a contents entry, and whether it describes an option
        the question names."""
        key = (index, line_no)
        if key not in line_cache:
            lines = shown[index].text.split("\n")
            at = min(max(line_no - shown[index].lo, 0), len(lines) - 1)
            own = lines[at]
            above = next((d for d in range(0, min(at, 15) + 1) if asked_about(lines[at - d])), None)
            line_cache[key] = (
                overlap(own),
                overlap("\n".join(lines[at : at + 4])),
                float(
                    any(n.lower() in names or any(t in weights for t in word_terms(n)[:1]) for n in defined_names(own))
                ),
                float(any(lit in own for lit in literals)),
                float(any(lit in line for line in lines[max(at - 3, 0) : at] for lit in literals)),
                0.0 if above is None else 1 / (1 + above),
                set(defined_names(own)),
                overlap("\n".join(lines[at + 1 : at + 4])),
                float(bool(DOT_LEADER.search(own))),
                float(_describes_option(lines, at, options)),
            )
        return line_cache[key]

    rows = []
    for c in found:
        s = shown[c.shown]
        line_no, _ = c.location(s)
        kind = [1.0 if c.kind == k else 0.0 for k in UNIT_KINDS]
        crossed = [k * q for k in kind for q in cues]
        own, near, defines, quotes, quoted_above, below_asked, defined, below, leader, asked_option = line_facts(
            c.shown, line_no
        )
        words = re.findall(r"[A-Za-z]{4,}", c.text)
        first_on_line = c.begin >= 0 and not s.text[s.text.rfind("\n", 0, c.begin) + 1 : c.begin].strip()
        c_terms = _terms(c.text)
        echo = len([t for t in c_terms if t in weights]) / max(len(c_terms), 1)
        fits_blank = 0.0
        if blank and c.begin >= 0:
            left = s.text[max(0, c.begin - 40) : c.begin].split()
            right = s.text[c.end : c.end + 40].split()
            fits_blank = float(
                bool(blank.group(1)) and bool(left) and left[-1].strip("\"'`(").lower().endswith(blank.group(1).lower())
            ) + float(
                bool(blank.group(2))
                and bool(right)
                and right[0].strip(".,;:\"'`)").lower().startswith(blank.group(2).lower())
            )
        rank = [1.0 if c.shown == r else 0.0 for r in range(3)]
        rows.append(
            kind
            + crossed
            + rank
            + [
                math.log1p(len(c.text)) / 5,
                float(line_no == s.passage.focus),
                math.log1p(abs(line_no - s.passage.focus)) / 3,
                own,
                near,
                defines,
                echo,
                float(c.text.lower() in names),
                fits_blank / 2,
                float(c.kind == "name" and c.text.rpartition(".")[2] in defined),
                quotes,
                quoted_above,
                below_asked,
                float(first_on_line),
                below,
                leader,
                asked_option,
                float(any(p.search(c.text) for p in phrases)),
                sum(w.lower()[:STEM] in stems for w in words) / max(len(words), 1),
                float(s.passage.owner is not None and s.passage.owner.lower() in asked_words),
                float(c.kind == "name" and line_no == s.passage.definition and c.text.rpartition(".")[2] in defined),
            ]
        )
    return rows


# --- the head --------------------------------------------------------------------------------


def token_span(offsets: list[tuple[int, int]], begin: int, end: int) -> tuple[int, int]:
    """First and last token (indices into `offsets`) overlapping characters [begin, end)."""
    first = next((i for i, (a, b) in enumerate(offsets) if b > begin), len(offsets) - 1)
    last = next((i for i in range(len(offsets) - 1, -1, -1) if offsets[i][0] < end), first)
    return first, max(first, last)


def candidate_positions(tokenizer, shown: list[Shown], found: list[Candidate]) -> list[tuple[int, int]]:
    """Window positions of each candidate's first and last token (ids laid out as
    `tokenizer.encode_file` lays out a passage: FILE marker, path line, text)."""
    offsets = [plain_offsets(tokenizer, s) for s in shown]
    out = []
    for c in found:
        s, off = shown[c.shown], offsets[c.shown]
        head = len(s.passage.path) + 1
        begin, end = (0, len(s.passage.path)) if c.begin < 0 else (head + c.begin, head + c.end)
        first, last = token_span(off, begin, end)
        out.append((s.start + 1 + first, s.start + 1 + last))
    return out


def plain_offsets(tokenizer, s: Shown) -> list[tuple[int, int]]:
    return list(tok.plain_encoding(tokenizer, tok.file_body(s.passage.path, s.text)).offsets)


def make_head(d_model: int):
    """A two-layer MLP over [h_start, h_end, h_answer, h_start*h_answer, h_end*h_answer, lexical]."""
    from torch import nn

    return nn.Sequential(nn.Linear(5 * d_model + N_LEXICAL, HIDDEN), nn.GELU(), nn.Linear(HIDDEN, 1))


def head_inputs(hidden, positions: list[tuple[int, int]], lexical: list[list[float]]):
    """The head's input rows: `hidden` [T, d] is the window's final hidden states, its last
    row the answer marker's."""
    import torch

    starts = torch.tensor([a for a, _ in positions])
    ends = torch.tensor([b for _, b in positions])
    h_s, h_e, h_q = hidden[starts].float(), hidden[ends].float(), hidden[-1].float().expand(len(positions), -1)
    return torch.cat([h_s, h_e, h_q, h_s * h_q, h_e * h_q, torch.tensor(lexical, dtype=torch.float32)], dim=1)


def window_hidden(model, ids: list[int], fast):
    """Final hidden states [T, d] of one window read from empty caches with `fast` weights."""
    import torch

    cfg = model.cfg
    x = torch.tensor(ids, device=model.embed.weight.device).view(1, 1, -1)
    with torch.no_grad():
        h, _ = model.run_prefix(x, model.empty_caches(1, cfg.n_layers - cfg.n_suffix), len(ids))
        h, _ = model.run_suffix(h, model.empty_caches(1, cfg.n_suffix), len(ids), fast)
    return h[0, 0]


def window_inputs(
    model,
    tokenizer,
    question: str,
    weights: dict[str, float],
    *,
    prompt: list[int],
    shown: list[Shown],
    found: list[Candidate],
    fast,
):
    """The head's input rows for the candidates `found` in the window `prompt`."""
    hidden = window_hidden(model, prompt, fast)
    positions = candidate_positions(tokenizer, shown, found)
    return head_inputs(hidden, positions, lexical_features(question, weights, shown, found))


@dataclass
class SpanHead:
    net: object  # the torch module
    backbone_sha256: str
    not_found: dict  # {"weights": [w_confidence, w_margin, w_coverage], "bias": b, "threshold": t}
    trained_on: dict

    @property
    def reads_memory(self) -> bool:
        """Whether the head was trained on windows read with documents' fast weights (then
        it scores with the snapshot's), else with the initial ones."""
        return bool(self.trained_on.get("reads_memory", False))

    def scores(self, inputs):
        import torch

        with torch.no_grad():
            return self.net(inputs).squeeze(-1)

    def found_probability(self, confidence: float, margin: float, cover: float) -> float:
        w, b = self.not_found["weights"], self.not_found["bias"]
        z = w[0] * confidence + w[1] * margin + w[2] * cover + b
        return 1 / (1 + math.exp(-max(min(z, 50.0), -50.0)))

    def save(self, path: Path) -> None:
        from safetensors.torch import save_file

        tensors = {k: v.detach().float().contiguous() for k, v in self.net.state_dict().items()}
        meta = {
            "format": HEAD_FORMAT,
            "backbone_sha256": self.backbone_sha256,
            "not_found": json.dumps(self.not_found),
            "trained_on": json.dumps(self.trained_on),
        }
        save_file(tensors, str(path), metadata=meta)


def head_path(checkpoint_dir: Path) -> Path:
    return Path(checkpoint_dir) / HEAD_FILE


def load_head(path: Path, backbone_sha256: str, d_model: int) -> tuple[SpanHead | None, str | None]:
    """(head, None), or (None, a one-line notice) when the file is missing, unreadable or
    trained on another backbone."""
    from safetensors import safe_open

    if not path.is_file():
        return None, f"no span head beside the model ({path.name}): answering with the best passage's best line"
    try:
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}
        if meta.get("format") != HEAD_FORMAT:
            raise ValueError(f"format {meta.get('format')!r}")
        if meta.get("backbone_sha256") != backbone_sha256:
            return (
                None,
                f"{path.name} was trained for another model checkpoint: answering with the best passage's best line "
                "(retrain it with `ttt-read train span`)",
            )
        net = make_head(d_model)
        net.load_state_dict(state)
        net.eval()
        return SpanHead(
            net, backbone_sha256, json.loads(meta["not_found"]), json.loads(meta.get("trained_on", "{}"))
        ), None
    except Exception as e:  # a damaged head must not stop answering
        return (
            None,
            f"{path.name} is unreadable ({str(e).splitlines()[0] if str(e) else type(e).__name__}): answering with "
            "the best passage's best line",
        )
