"""A README's description of a name the code leaves uncommented describes that name's units."""

from __future__ import annotations

from ttt_read.ask import prose_docs, ranking
from ttt_read.ask.intent import analyse
from ttt_read.ask.units import notepad_units
from ttt_read.notepad.store import Notepad
from ttt_read.text import sources

README = """# kettle

Boil water from Node.

## Options

* `keepWarm` (default: `false`).
When the water has boiled, hold it at the set temperature
until `off()` is called.
* `options.whistle.volume` (default: 3). How loud the whistle is.
* `limit` (default: 2). The most litres it heats.

Use `fs.watch` to see the lid. Call `.boil()` to start heating; it resolves once the water boils.
"""

CODE = """
function Kettle(opts) {
  if (opts.keepWarm === undefined) opts.keepWarm = false;
  if (!opts.volume) opts.volume = 3;
}

Kettle.prototype.boil = function () {};

function watch(path) {}
"""


def test_an_item_a_name_opens_or_the_sentence_it_is_in_is_what_prose_says_about_it():
    said = prose_docs.mentions(README.split("\n"))
    assert said["keepWarm"] == [
        "* `keepWarm` (default: `false`). When the water has boiled, hold it at the set temperature"
        " until `off()` is called."
    ]
    assert said["volume"] == ["* `options.whistle.volume` (default: 3). How loud the whistle is."]
    assert said["boil"] == ["Call `.boil()` to start heating; it resolves once the water boils."]
    assert "off" not in said  # said within the entry of `keepWarm`, about `keepWarm`
    assert "watch" not in said  # `fs.watch` in a sentence is another module's


def test_a_unit_the_code_leaves_uncommented_is_described_by_the_readme(tmp_path):
    (tmp_path / "README.md").write_text(README)
    (tmp_path / "kettle.js").write_text(CODE)
    notepad = Notepad.build(sources.collect([tmp_path]).files)
    found = {(u.kind, u.name): u for u in notepad_units(notepad)}
    assert "hold it at the set temperature" in found[("value", "keepWarm")].doc
    assert "How loud the whistle is." in found[("value", "volume")].doc
    assert "the lid" not in found[("function", "watch")].doc
    assert not [u for u in found.values() if u.path == "README.md" and "hold it" in u.doc]
    index = ranking.unit_index(notepad)
    question = "Which option holds the temperature once the water has boiled?"
    best = ranking.rank(index, analyse(question), question)[0]
    assert index.units[best[2]].name == "keepWarm"
