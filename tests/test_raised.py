"""An error a program raises is a unit: "What error do I get when ...?" is answered by the
statement that raises it, named by its message and described by the condition guarding it."""

from __future__ import annotations

import pytest

from ttt_read.ask import raised, ranking, units
from ttt_read.ask.intent import analyse
from ttt_read.notepad.store import Notepad
from ttt_read.text import sources

PYTHON = '''
class QueueFull(Exception):
    """Raised when put_nowait() is called on a full Queue."""


def put_nowait(queue, item):
    if queue.full():
        raise QueueFull
    try:
        queue.append(item)
    except TypeError as exc:
        raise exc
    except ValueError:
        raise
    raise ValueError("item must be hashable, "
                     "got a list")
'''

JAVASCRIPT = """
function cookie(name, value, options) {
  var signed = options.signed;
  if (signed && !this.secret) {
    throw new Error('cookieParser("secret") required for signed cookies');
  }
  throw err;
}
"""

GO = """package hex

import "errors"

var ErrLength = errors.New("encoding/hex: odd length hex string")

func (d *dumper) Write(p []byte) error {
	if d.closed {
		return errors.New("encoding/hex: dumper closed")
	}
	return nil
}
"""


def errors_of(name: str, text: str) -> dict[str, object]:
    return {u.name: u for u in units.file_units(name, text, "text") if u.kind == "error"}


def test_a_raise_is_named_by_its_message_and_answered_by_the_statement():
    found = errors_of("queues.py", PYTHON)
    assert set(found) == {"raise QueueFull", "item must be hashable, got a list"}  # no re-raise
    full = found["raise QueueFull"]
    assert (full.answer, full.context, full.owner) == ("raise QueueFull", "queue.full() put_nowait", "put_nowait")
    assert PYTHON.split("\n")[full.line - 1][full.col - 1 :] == "raise QueueFull"
    joined = found["item must be hashable, got a list"]
    assert joined.answer == 'raise ValueError("item must be hashable, " "got a list")'
    assert joined.context == "put_nowait"


def test_a_throw_is_described_by_the_condition_guarding_it():
    found = errors_of("response.js", JAVASCRIPT)
    assert list(found) == ['cookieParser("secret") required for signed cookies']  # not `throw err`
    thrown = found['cookieParser("secret") required for signed cookies']
    assert thrown.answer.startswith("throw new Error(") and thrown.context == "(signed && !this.secret) cookie"


def test_an_error_built_in_a_function_is_a_unit_and_a_declared_one_is_its_variable():
    found = errors_of("hex.go", GO)
    assert list(found) == ["encoding/hex: dumper closed"]
    assert found["encoding/hex: dumper closed"].answer == 'errors.New("encoding/hex: dumper closed")'
    assert ("variable", "ErrLength") in {(u.kind, u.name) for u in units.file_units("hex.go", GO, "text")}


@pytest.mark.parametrize(
    "question, answer",
    [
        ("What error do I get setting a signed cookie when no secret is configured?", "required for signed cookies"),
        ("Which exception does put_nowait raise when the queue is full?", "QueueFull"),
    ],
)
def test_a_question_about_an_error_gets_the_statement_that_raises_it(tmp_path, question, answer):
    (tmp_path / "response.js").write_text(JAVASCRIPT)
    (tmp_path / "queues.py").write_text(PYTHON)
    index = ranking.unit_index(Notepad.build(sources.collect([tmp_path]).files))
    best = ranking.rank(index, analyse(question), question)[0]
    assert answer in index.units[best[2]].answer


def test_errors_answer_only_questions_about_errors(tmp_path):
    (tmp_path / "queues.py").write_text(PYTHON)
    index = ranking.unit_index(Notepad.build(sources.collect([tmp_path]).files))
    question = "Which function puts an item without waiting?"
    assert "error" not in {index.units[i].kind for _, _, i, _ in ranking.rank(index, analyse(question), question)}


def test_an_error_class_is_described_by_where_it_is_raised():
    """`QueueFull`'s context gains the function raising it, the condition and the message."""
    code = PYTHON.replace("raise ValueError(", "raise QueueFull(")
    found = {(u.kind, u.name): u for u in raised.described_by_raises(units.file_units("queues.py", code, "text"))}
    assert found[("class", "QueueFull")].context.endswith(
        "raised: queue.full() put_nowait; put_nowait item must be hashable, got a list"
    )


def test_an_error_built_to_be_handed_on_is_a_unit():
    """A promise rejects with an error it builds (`reject(new HttpError(...))`): no `throw` says it,
    yet it is what the user gets; an error thrown as it is built is one unit, not two."""
    code = """
function settle(resolve, reject, response) {
  if (response.status >= 500) {
    reject(new HttpError('Server failed with status ' + response.status, HttpError.ERR_BAD_RESPONSE));
  }
  if (!response) {
    throw new HttpError('No response');
  }
  reject(new Date());
}
"""
    found = errors_of("settle.js", code)
    assert set(found) == {"Server failed with status", "No response"}
    handed = found["Server failed with status"]
    assert handed.answer.startswith("new HttpError(") and "ERR_BAD_RESPONSE" in handed.answer
    assert handed.context == "(response.status >= 500) settle"


def test_a_question_for_an_error_message_gets_the_statement_not_the_class(tmp_path):
    """The error class's doc says "an error with the given message" of every message; the
    statement building one says which."""
    (tmp_path / "errors.js").write_text(
        "/**\n * Create an error with the given message, the response and its body.\n */\n"
        "function HttpError(message, response) {\n  this.message = message;\n}\n"
    )
    (tmp_path / "settle.js").write_text(
        "function settle(reject, response, limit) {\n  if (response.size > limit) {\n"
        "    reject(new HttpError('response body larger than the limit', 413));\n  }\n}\n"
    )
    index = ranking.unit_index(Notepad.build(sources.collect([tmp_path]).files))
    question = "What error message do I get when the response body is too large?"
    asked = analyse(question)
    assert (asked.kind, asked.message) == ("exception", True)
    best = ranking.rank(index, asked, question)[0]
    assert index.units[best[2]].answer.startswith("new HttpError('response body larger")
    class_question = "Which error class is a request rejected with?"
    assert not analyse(class_question).message
