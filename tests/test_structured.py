"""Answering by the unit a question asks for: the definition index per language (`units`, on the
small sources in tests/fixtures/units/), what a question asks for (`intent.analyse`), the
answers with their path:line:col, "not found", and `eval-qa` with `answer_regex` questions and
the BM25 baseline beside `ask`, end to end with the bundled checkpoint."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from ttt_read.ask import intent, quoted, ranking, stems, structured, syntax, units
from ttt_read.ask.synonyms import as_code_says, lemma, synonyms
from ttt_read.ask.unit import Unit
from ttt_read.evaluate.baseline import baseline_answer
from ttt_read.evaluate.qa import AnswerRegex, load_asked, score
from ttt_read.notepad.store import Notepad
from ttt_read.text import sources

FIXTURES = Path(__file__).parent / "fixtures" / "units"


def units_of(name: str) -> dict[tuple[str, str], Unit]:
    path = FIXTURES / name
    return {(u.kind, u.name): u for u in units.file_units(name, path.read_text(), "text")}


def line_col(name: str, line: int, col: int, text: str) -> bool:
    """Whether `text` starts at line:col (1-based) of the fixture."""
    return (FIXTURES / name).read_text().split("\n")[line - 1][col - 1 :].startswith(text)


@pytest.mark.parametrize(
    "name, kind, defined, doc",
    [
        # a docstring's first two paragraphs: what it does, then how to use it (here its arguments)
        (
            "kettle.py",
            "function",
            "descale",
            "Remove limescale from the heating element. Args: kettle: the kettle to clean. "
            "vinegar (bool): rinse with vinegar, which smells but works faster.",
        ),
        ("kettle.py", "method", "boil", "Bring the water to the boil and switch off."),
        ("kettle.py", "class", "KettleError", "Raised when the kettle cannot heat the water."),
        ("lamp.js", "method", "dim", "Fade the light down slowly until it is dark."),  # `name(args) {` in a class
        ("lamp.js", "method", "onBurnout", "Register a callback called when the bulb burns out."),
        ("lamp.js", "method", "glow", "Glow softly in the dark like a night light."),  # `Lamp.prototype.glow = ...`
        ("lamp.js", "function", "blackout", "Switch every lamp in the house off."),  # `exports.blackout = ...`
        ("pump.ts", "function", "prime", "Start the pump and keep it running until told to stop."),
        ("pump.ts", "method", "drain", "Drain the pump's chamber completely."),
        ("valve.go", "method", "Open", "Open turns the valve on so that water flows."),
        ("valve.go", "class", "Valve", "Valve is a water valve."),
        ("fan.c", "function", "fan_spin", "Spin the fan up to the given speed in revolutions per minute."),
        ("bell.rs", "method", "ring", "Ring the chime once at the current volume."),
        ("bell.rs", "function", "mute_all", "Silence every bell in the house."),
        # `///` lines, each its own comment node holding its newline, above an attribute
        ("bell.rs", "function", "ring_all", "Ring every bell in the house at once. Each bell rings at its own volume."),
        ("Clock.java", "method", "setTime", "Set the hands to the given hour and minute."),
        ("Clock.java", "class", "Clock", "A wall clock that can chime on the hour."),
    ],
)
def test_definitions_per_language_with_their_doc_comments(name, kind, defined, doc):
    found = units_of(name)
    unit = found[(kind, defined)]
    assert unit.doc == doc
    assert line_col(name, unit.line, unit.col, defined)


def test_definitions_kept_out_of_the_public_api_are_marked_private():
    """JSDoc's `@private` and TypeScript's `private`: users ask about what a library exports."""
    lamp, pump = units_of("lamp.js"), units_of("pump.ts")
    assert "private" in lamp[("method", "fadeNow")].tags and "private" in pump[("method", "vent")].tags
    assert "private" not in lamp[("method", "dim")].tags and "private" not in pump[("method", "drain")].tags


def test_owners_properties_and_exceptions():
    kettle = units_of("kettle.py")
    assert kettle[("method", "boil")].owner == "Kettle"
    assert "property" in kettle[("method", "is_full")].tags
    assert "exception" in kettle[("class", "KettleError")].tags
    assert units_of("valve.go")[("method", "Open")].owner == "Valve"  # from the receiver
    assert units_of("bell.rs")[("method", "ring")].owner == "Bell"  # from the impl block


@pytest.mark.parametrize(
    "name, setting, value",
    [
        ("kettle.py", "DEFAULT_TIMEOUT", "30"),
        ("kettle.py", "retries", "3"),  # a keyword default
        ("kettle.py", "timeout", "DEFAULT_TIMEOUT"),  # a named constant, resolved when answering
        ("lamp.js", "step", "10"),  # `seconds || 10`: the fallback
        ("lamp.js", "colour", "'warm white'"),
        ("lamp.js", "times", "2"),
        ("pump.ts", "strokes", "5"),
        ("valve.go", "DefaultFlow", "12"),
        ("fan.c", "FAN_MAX_SPEED", "2400"),
        ("bell.rs", "RINGS", "3"),
        ("Clock.java", "CHIME_INTERVAL", "60"),
    ],
)
def test_settings_and_defaults_with_their_values(name, setting, value):
    unit = units_of(name)[("value", setting)]
    assert unit.answer == value
    assert line_col(name, unit.line, unit.col, value)


@pytest.mark.parametrize(
    "name, text, setting, value",
    [
        ("valve.go", "package valve\n\nconst MaxHeaderBytes = 1 << 20\n", "MaxHeaderBytes", "1 << 20"),
        ("valve.go", "package v\n\nvar D = &V{\n\tIdle: 90 * time.Second,\n}\n", "Idle", "90 * time.Second"),
        ("valve.go", "package valve\n\nvar Default = &Valve{\n\tFlow: 12,\n}\n", "Flow", "12"),
        ("kettle.py", "LIMIT = (2 ** 16)  # 64 KiB\n", "LIMIT", "2 ** 16"),
        ("lamp.js", "const fadeTimeout = 30 * 1000;\n", "fadeTimeout", "30 * 1000"),
        # what code puts in place of a value that was not given
        ("kettle.py", "def boil(s=None):\n    if s is None:\n        s = sys.stderr\n", "s", "sys.stderr"),
        ("lamp.js", "function dim(o) {\n  if (o.step === undefined) o.step = STEP;\n}\n", "step", "STEP"),
        ("lamp.js", "function dim(n) {\n  if (!n) { n = defaultSteps(); }\n}\n", "n", "defaultSteps()"),
    ],
)
def test_defaults_as_code_writes_them_are_values(name, text, setting, value):
    """`1 << 20`, `90 * time.Second` in a Go struct literal, `if stream is None: stream = sys.stderr`."""
    found = {(u.kind, u.name, u.answer): u for u in units.file_units(name, text, "text")}
    unit = found[("value", setting, value)]
    assert text.split("\n")[unit.line - 1][unit.col - 1 :].startswith(value)


def test_a_setting_read_by_name_with_a_fallback_has_that_default():
    """`kwargs.pop("filemode", 'a')`, `opts.get('timeout', DEFAULT_TIMEOUT)`, `get_bool_opt(options,
    'stripnl', True)`: read with their defaults."""
    text = (
        "def boil(key, **kwargs):\n"
        "    mode = kwargs.pop(\"filemode\", 'a')\n"
        "    t = opts.get('timeout', LIMIT)\n"
        "    x = d.get(key, 3)\n"
        "    strip = get_bool_opt(options, 'stripnl', True)\n"
        "    y = config.get('section', 'depth', 5)\n"
    )
    found = {(u.kind, u.name): u for u in units.file_units("kettle.py", text, "text")}
    assert (found[("value", "filemode")].answer, found[("value", "timeout")].answer) == ("'a'", "LIMIT")
    assert found[("value", "stripnl")].answer == "True" and ("value", "depth") not in found
    unit = found[("value", "timeout")]
    assert text.split("\n")[unit.line - 1][unit.col - 1 :].startswith("LIMIT)")
    assert ("value", "key") not in found  # the key is a variable, not a setting's name


def test_a_setting_an_application_sets_by_name_has_that_value():
    """`this.set('subdomain offset', 2)`: express-style settings, named by strings; a map entry
    set to a variable is none."""
    text = "app.init = function () {\n  this.set('subdomain offset', 2);\n  cache.set('k', value);\n};\n"
    found = {(u.kind, u.name): u for u in units.file_units("application.js", text, "text")}
    assert found[("value", "subdomain offset")].answer == "2" and ("value", "k") not in found


def test_a_setting_is_answered_as_the_code_states_it(tmp_path):
    """Its name with its value where the code assigns it (`mode='a'`, `LIMIT = 2 ** 16`, a
    fallback with what it falls back from); the value alone where the name is not written right
    before it (`kwargs.pop('timeout', LIMIT)`)."""
    code = (
        "LIMIT = 2 ** 16\n\ndef boil(mode='a', **kw):\n    t = kw.pop('timeout', LIMIT)\n"
        "    cups = kw.get('cups') or 1\n"
    )
    (tmp_path / "kettle.py").write_text(code)
    index = ranking.unit_index(Notepad.build(sources.collect([tmp_path]).files))
    said = {(u.kind, u.name): structured.stated(index, u).answer for u in index.units}
    assert said[("value", "mode")] == "mode='a'" and said[("value", "timeout")] == "LIMIT"
    assert said[("value", "cups")] == "cups = kw.get('cups') or 1"  # a fallback, with what it falls back from
    assert said[("value", "LIMIT")] == said[("variable", "LIMIT")] == "LIMIT = 2 ** 16"
    assert said[("function", "boil")] == "boil"


def test_a_name_a_table_registers_a_definition_under_is_that_definition():
    """`"urlquery": URLQueryEscaper` in a Go map of built-ins, `{'json': dump_json}` in Python:
    users call the definition by the key, so the key is a unit with its kind and doc comment;
    a key for nothing defined here (`fmt.Sprint`) or for a value is none."""
    go = (
        "package t\n\n// URLQueryEscaper escapes its arguments for a URL query.\n"
        'func URLQueryEscaper(args ...any) string { return "" }\n\n'
        'var builtins = FuncMap{\n\t"urlquery": URLQueryEscaper,\n\t"print": fmt.Sprint,\n}\n'
    )
    py = 'def dump_json(x):\n    """Write x as JSON."""\n\n\nFORMATS = {"json": dump_json, "indent": 2}\n'
    found = {}
    for name, text in (("t.go", go), ("f.py", py)):
        for u in units.resolve_registered(units.file_units(name, text, "text")):
            found[(name, u.kind, u.name)] = u
    urlquery, json_ = found[("t.go", "function", "urlquery")], found[("f.py", "function", "json")]
    assert urlquery.doc == "URLQueryEscaper escapes its arguments for a URL query." and json_.doc == "Write x as JSON."
    assert go.split("\n")[urlquery.line - 1][urlquery.col - 1 :].startswith("urlquery")
    assert not [key for key in found if key[2] in ("print", "indent") and key[1] != "value"]


def test_a_module_constant_is_described_by_the_functions_that_use_it():
    """`maxDistance = 3`, used by `editDistance`, answers "the maximum edit distance"."""
    text = (
        "const maxDistance = 3;\nconst unused = 4;\n\n"
        "function editDistance(a, b) {\n  return Math.min(a.length, maxDistance);\n}\n"
    )
    found = {(u.kind, u.name): u for u in units.file_units("suggest.js", text, "text")}
    assert found[("value", "maxDistance")].context.endswith("used in editDistance")
    assert "used in" not in found[("value", "unused")].context


def test_a_property_a_call_defines_on_an_object_is_a_unit():
    """`defineGetter(req, 'xhr', function xhr() {...})`, `Object.defineProperty(lamp, 'lit',
    {get() {...}})`: read as `req.xhr`, documented by the comment above the call."""
    text = (
        "/**\n * Whether the request came from XMLHttpRequest.\n */\n"
        "defineGetter(req, 'xhr', function xhr() {\n  return true;\n});\n\n"
        "// Whether the lamp is on.\nObject.defineProperty(lamp, 'lit', { get() { return this.on; } });\n"
        "emitter.on('ready', function () {});\n"
    )
    found = {(u.kind, u.name): u for u in units.file_units("req.js", text, "text") if "property" in u.tags}
    assert found[("method", "xhr")].doc == "Whether the request came from XMLHttpRequest."
    assert found[("method", "lit")].doc == "Whether the lamp is on."
    xhr = found[("method", "xhr")]
    assert text.split("\n")[xhr.line - 1][xhr.col - 1 :].startswith("xhr'")
    assert ("method", "ready") not in found


def test_an_assignment_under_another_test_is_not_a_default():
    text = "def boil(stream=None):\n    if stream is not None:\n        stream = wrap(stream)\n"
    assert not [u for u in units.file_units("kettle.py", text, "text") if u.answer == "wrap(stream)"]


def test_arithmetic_on_a_variable_is_not_a_value():
    found = {(u.kind, u.name) for u in units.file_units("kettle.py", "scaled = litres * 3\n", "text")}
    assert ("value", "scaled") not in found


@pytest.mark.parametrize(
    "name, text, setting, value",
    [
        (
            "kettle.py",
            "DEFAULT_LIMITS = Limits(max_litres=4, max_cups=LIMIT)\n",
            "DEFAULT_LIMITS",
            "Limits(max_litres=4, max_cups=LIMIT)",
        ),
        ("kettle.py", "root = RootKettle(WARM)\n", "root", "RootKettle(WARM)"),
        (
            "kettle.py",
            "def pour(address=('localhost', SPOUT_PORT)):\n    pass\n",
            "address",
            "('localhost', SPOUT_PORT)",
        ),
        ("lamp.js", "const bright = new Set(['GET', 'HEAD']);\n", "bright", "new Set(['GET', 'HEAD'])"),
        # the literal a function falls back on is that function's default answer
        (
            "kettle.py",
            "def guess_kind(name):\n    return lookup(name) or 'application/octet-stream'\n",
            "guess_kind",
            "'application/octet-stream'",
        ),
        ("lamp.js", "function port(o) {\n  return o.port || 8080;\n}\n", "port", "8080"),
        # defaults of settings read from a configuration object by destructuring it
        ("lamp.js", "function dim(config) {\n  const {timeout = 0, steps} = config;\n}\n", "timeout", "0"),
        # a pattern and a flag the code computes from what it runs on, as their code states them
        ("lamp.js", "exports.SWAP_RE = /\\.sw[px]$/;\n", "SWAP_RE", "/\\.sw[px]$/"),
        ("kettle.py", "SPOUT = re.compile(r'\\s+', re.I)\n", "SPOUT", "re.compile(r'\\s+', re.I)"),
        (
            "valve.go",
            'package valve\n\nvar tag = regexp.MustCompile("^v[0-9]+")\n',
            "tag",
            'regexp.MustCompile("^v[0-9]+")',
        ),
        ("lamp.js", "const isMainframe = os.type() === 'OS400';\n", "isMainframe", "os.type() === 'OS400'"),
        ("kettle.py", "WINDOWS = sys.platform == 'win32'\n", "WINDOWS", "sys.platform == 'win32'"),
    ],
)
def test_objects_built_from_literals_and_fallbacks_are_values(name, text, setting, value):
    """`Timeout(timeout=5.0)`, `('localhost', SYSLOG_UDP_PORT)`, `return guess(f) or "application/octet-stream"`,
    `const {timeout = 0} = config`: a default as its code states it."""
    found = {(u.kind, u.name, u.answer): u for u in units.file_units(name, text, "text")}
    unit = found[("value", setting, value)]
    assert text.split("\n")[unit.line - 1][unit.col - 1 :].startswith(value)


def test_a_number_a_call_passes_is_a_value_named_by_the_call():
    """`socket.setKeepAlive(true, 1000 * 60)`: a delay fixed where it is used; `slice(1)` sets nothing."""
    text = "function open(socket) {\n  socket.setKeepAlive(true, 1000 * 60);\n  name.slice(1);\n}\n"
    found = {(u.kind, u.name): u for u in units.file_units("adapter.js", text, "text")}
    unit = found[("value", "setKeepAlive")]
    assert unit.answer == "1000 * 60" and text.split("\n")[unit.line - 1][unit.col - 1 :].startswith("1000 * 60")
    assert ("value", "slice") not in found


def test_a_call_that_computes_is_not_a_value():
    """A function's result or an object built from nothing says nothing about a default."""
    text = (
        "agent = USER_AGENT.encode('ascii')\nlock = Lock()\nsize = len(BUFFER)\ndef f(x):\n    return x or y\n"
        "same = a == b\nfull = pattern.compile(name)\n"
    )
    found = {(u.kind, u.name) for u in units.file_units("kettle.py", text, "text")}
    assert not found & {("value", n) for n in ("agent", "lock", "size", "f", "same", "full")}


def test_settings_destructured_from_a_configuration_object_are_options(tmp_path):
    """`const {url, fetchOptions} = resolveConfig(config)`, `function f({depth} = {})`: users pass
    these by name; names taken apart from any other object are not settings."""
    text = (
        "function send(config) {\n  const {url, fetchOptions} = resolveConfig(config);\n"
        "  const {head, tail} = list;\n}\n"
        "function walk({depth, follow = true} = {}) {}\n"
    )
    found = {(u.kind, u.name): u for u in units.file_units("adapter.js", text, "text")}
    options = {name for (kind, name), u in found.items() if kind == "variable" and "field" in u.tags}
    assert options == {"url", "fetchOptions", "depth"} and found[("value", "follow")].answer == "true"
    (tmp_path / "adapter.js").write_text(text)
    pad = Notepad.build(sources.collect([tmp_path]).files)
    index, question = ranking.unit_index(pad), "Which option passes extra settings to fetch?"
    best = ranking.rank(index, intent.analyse(question), question)[0]
    assert index.units[best[2]].name == "fetchOptions"


@pytest.mark.parametrize(
    "name, field, owner, doc",
    [
        ("pump.ts", "dryStop", "PumpOptions", "Whether the pump stops by itself once the tank is empty."),
        ("valve.go", "Drip", "Valve", "Drip lets a little water through even while the valve is shut, so"),
        ("bell.rs", "echo", "Bell", "How long the chime echoes after each ring, in milliseconds."),
        ("fan.c", "blades", "fan", "how many blades turn on the hub"),  # inside a pointer declarator
    ],
)
def test_documented_fields_of_structs_and_interfaces_are_units(name, field, owner, doc):
    """A documented member without a value (an options interface's property, a struct field) is a
    setting users set by name; an undocumented one (`pressure`, `open`, `volume`) is left out."""
    found = units_of(name)
    unit = found[("variable", field)]
    assert "field" in unit.tags and unit.owner == owner and unit.doc.startswith(doc)
    assert line_col(name, unit.line, unit.col, field)
    assert not {("variable", n) for n in ("pressure", "open", "volume", "speed")} & found.keys()
    assert "private" not in unit.tags


def test_a_field_its_doc_comment_marks_internal_is_private():
    poll = units_of("pump.ts")[("variable", "pollEvery")]
    assert "private" in poll.tags and poll.doc == "How often the controller polls the float switch, in ms."


@pytest.mark.parametrize(
    "question, answer",
    [
        ("Which option makes the pump stop when the tank runs dry?", "dryStop"),
        ("Which field keeps the pipe from freezing?", "Drip"),
    ],
)
def test_documented_fields_answer_questions_about_options_and_fields(pad, question, answer):
    result = structured.structured_answer(None, pad, question, use_memory=False)
    assert (result.found, result.text) == (True, answer)


def test_node_reads_an_environment_variable_by_property():
    night = units_of("lamp.js")[("env", "LAMP_NIGHT_MODE")]
    assert night.doc == "Lamps in a shop window stay on all night." and "env-context" in night.tags
    assert line_col("lamp.js", night.line, night.col, "LAMP_NIGHT_MODE ===")


@pytest.mark.parametrize(
    "name, text, variable",
    [
        ("debug.py", "import os\nDEBUG = os.environ.get('PYTHONASYNCIODEBUG')\n", "PYTHONASYNCIODEBUG"),
        ("width.py", 'import os\nwidth = os.getenv("COLUMNS", 80)\n', "COLUMNS"),
        ("port.js", "const port = process.env['PORT'];\n", "PORT"),
        ("path.go", 'package p\n\nvar root = os.Getenv("GOPATH")\n', "GOPATH"),
        ("cargo.rs", 'fn f() { let c = env::var("CARGO"); }\n', "CARGO"),
    ],
)
def test_the_name_an_environment_read_asks_for_is_a_variable(name, text, variable):
    """Whatever its form (no underscore: `COLUMNS`), a name read from the environment is one."""
    found = [u for u in units.file_units(name, text, "text") if u.kind == "env"]
    assert [(u.name, "env-context" in u.tags) for u in found] == [(variable, True)]
    assert text.split("\n")[found[0].line - 1][found[0].col - 1 :].startswith(variable)
    assert not [u for u in units.file_units("d.py", "term = d.get('TERM')\n", "text") if u.kind == "env"]


def test_a_dotted_key_of_a_literal_table_is_a_setting():
    """`"truncate.leeway": 5` in a table of policies is the setting `truncate.leeway`."""
    found = {(u.kind, u.name): u for u in units.file_units("p.py", 'POLICIES = {"truncate.leeway": 5}\n', "text")}
    assert found[("value", "truncate.leeway")].answer == "5"


def test_events_an_emitter_fires_or_a_listener_signature_names_are_units():
    lamp, pump = units_of("lamp.js"), units_of("pump.ts")
    flickering = lamp[("event", "flickering")]
    assert flickering.doc == "Tell listeners the bulb is about to fail, well before it burns out."
    assert line_col("lamp.js", flickering.line, flickering.col, "flickering'")
    assert ("event", "EV_TICK") in lamp  # a constant naming the event
    assert pump[("event", "dry")].doc == "Fires when the tank runs dry and the pump stops."
    assert {("event", "stroke"), ("event", "stall")} <= pump.keys()
    assert not any(kind == "event" and name in ("hours", "listener", "count") for kind, name in lamp | pump)


@pytest.mark.parametrize(
    "question, answer",
    [
        ("Which event warns me that the bulb is about to fail?", "flickering"),
        ("Which event tells me the tank ran dry?", "dry"),
    ],
)
def test_a_question_for_an_event_gets_the_events_name(pad, question, answer):
    result = structured.structured_answer(None, pad, question, use_memory=False)
    assert (result.found, result.text) == (True, answer)


def test_module_variables_and_sentinel_errors():
    valve = units_of("valve.go")
    assert valve[("variable", "ErrStuck")].doc == "ErrStuck is returned when the valve does not move."
    assert units_of("kettle.py")[("variable", "MAX_LITRES")].doc == ""  # the comment on the line above is not its own


def test_a_specification_lists_its_elements_as_bullets_that_open_with_their_names():
    """ "• sub-class-of elements indicate ...", "• A glob-deleteall element, which ...": each
    names an element, described by its bullet; a bullet about elements in general names none."""
    text = (
        "The source file holds these elements:\n"
        "• sub-class-of elements indicate that any data of this type is also some other type,\n"
        "given by the type attribute.\n"
        "• A glob-deleteall element, which indicates that earlier patterns must be discarded.\n"
        "• the elements above may repeat.\n"
    )
    found = {u.name: u for u in units.file_units("spec.pdf", text, "pdf")}
    assert found["sub-class-of"].doc == (
        "sub-class-of elements indicate that any data of this type is also some other type,"
        " given by the type attribute."
    )
    assert (found["glob-deleteall"].line, found["glob-deleteall"].col) == (4, 5) and "the" not in found


def test_a_man_page_gives_its_options_descriptions_synopsis_and_environment():
    page = units_of("sprinkler.txt")
    assert page[("command", "sprinkler")].answer == "sprinkler [-q] [--zones=LIST] [file]"
    quiet = page[("description", "-q, --quiet")]
    assert (quiet.answer, quiet.owner) == ("Print nothing while watering.", "sprinkler")
    assert line_col("sprinkler.txt", quiet.line, quiet.col, "Print nothing")
    assert page[("option", "-n")].doc == "Show what would be watered without opening any valve."
    assert page[("env", "SPRINKLER_HOME")].doc == "The directory holding the schedules."
    assert not any(name in ("NAME", "OPTIONS", "ENVIRONMENT") for _, name in page)  # section headings


def test_definition_lists_of_info_manuals_and_man_pages_are_units():
    """A texinfo table as info prints it (‘--spray’ and its aliases stacked, the description
    indented below) and a man page's keyword list (`dawn` alone on its line) give one unit per
    entry; a sentence's first word alone on a line ("Then") is no entry."""
    info, page = units_of("hose.info.txt"), units_of("sprinkler.txt")
    spray = info[("option", "--spray, --mist, -s")]
    assert spray.doc == "Spread the water in a fine cloud of droplets instead of a jet."
    assert line_col("hose.info.txt", spray.line, spray.col, "--spray’") and spray.answer == "--spray"
    assert info[("env", "HOSE_PRESSURE")].doc == "The water pressure to open the tap to, in bar."  # a blank line above
    assert page[("option", "dawn")].doc == "Water one hour before sunrise, when little of it evaporates."
    assert ("option", "skipwet") in page
    assert not any(name in ("Then", "hose") for kind, name in info if kind in ("option", "env"))
    commands = [u.answer for u in units.file_units("hose.info.txt", (FIXTURES / "hose.info.txt").read_text())]
    assert "hose --reel > hose.log" not in commands  # an example that redirects is no synopsis


@pytest.mark.parametrize(
    "question, answer",
    [
        ("Which option sprays a fine mist?", "--spray"),
        ("Which option makes a mist instead of a jet?", "--mist"),  # the alias it names, on its own line
        ("Which keyword waters the garden before sunrise?", "dawn"),
    ],
)
def test_definition_list_entries_answer_questions(pad, question, answer):
    result = structured.structured_answer(None, pad, question, use_memory=False)
    assert (result.found, result.text) == (True, answer)
    top = result.sources[0]
    assert line_col(top.path, top.line, top.col, answer)


def test_what_a_question_asks_for():
    asked = intent.analyse
    assert (asked("Which function removes limescale?").want, asked("Which function removes limescale?").kind) == (
        "definition",
        "function",
    )
    assert asked("Which exception is raised when the kettle fails?").kind == "exception"
    assert asked("What is the default flow of a valve?").want == "value"
    assert asked("How many times does the bell ring?").numeric
    assert asked("For how many seconds are repeated flicker events held back?").want == "value"  # not an event
    assert asked("Does the lamp flicker by default?").boolean
    assert asked("By default does the lamp flicker?").boolean
    assert not asked("By default, which size does the tank have?").boolean  # a value, not yes or no
    assert asked("What is the longest hose the sprinkler accepts?") == intent.Asked("value", None, numeric=True)
    assert asked("Which environment variable holds the schedules?").want == "env"
    assert asked("Which option prints nothing?").want == "option"
    assert asked("What does the -q option of sprinkler do?").want == "describe"
    assert asked("How do I drain the pump?").kind == "how"
    # a thing that does something is named, though what it does speaks of a size or a default
    assert asked("Which valve shuts once the tank reaches a certain size?").want == "definition"
    assert asked("Which setting decides whether the pump starts by default?").want == "definition"
    assert asked("Which size does the tank have by default?").want == "value"
    # what the user tells first does not ask; the clause that asks says what kind of answer
    assert asked("I filled the kettle past the line and it spat. What's the error?").kind == "exception"
    assert asked("The sprinkler floods the lawn at night. Which option stops that?").want == "option"
    for explanation in ("What is a subshell?", "What does `boil` do?", "Where is `Kettle` defined?"):
        assert asked(explanation) is None, explanation  # the span head answers these
    # the noun the answer is named by, when it is more than a kind of unit
    assert [intent.head_noun(q) for q in ("Which handler opens taps?", "What port does it use?")] == ["handler", "port"]
    not_named = (
        "Which function boils?",
        "What wraps the pump?",
        "What is it?",
        "Which built-in fan?",
        "Which pump method?",
    )
    assert [intent.head_noun(q) for q in not_named] == [""] * 5


@pytest.fixture(scope="module")
def pad() -> Notepad:
    return Notepad.build(sources.collect([FIXTURES]).files)


@pytest.mark.parametrize(
    "question, answer, path",
    [
        ("Which function deletes limescale?", "descale", "kettle.py"),  # "Remove limescale ...": a synonym
        ("Which method fades the light down?", "dim", "lamp.js"),
        ("Which method stops the fan?", None, None),  # a function, not a method: still the function
        ("Which function silences every bell?", "mute_all", "bell.rs"),
        ("Which exception is raised when the kettle cannot heat water?", "KettleError", "kettle.py"),
        ("How many litres does a kettle hold at most?", "MAX_LITRES = 1.7", "kettle.py"),  # max -> maximum
        ("What is the default flow of a new valve?", "DefaultFlow = 12", "valve.go"),  # a value as stated
        ("What timeout does boil use by default?", "DEFAULT_TIMEOUT = 30", "kettle.py"),  # the constant followed
        ("Which parameter makes descale work faster?", "vinegar", "kettle.py"),  # its docstring's `Args:`
        ("To what temperature does boil heat the water by default?", "target=100", "kettle.py"),
        ("Which environment variable names the schedules directory?", "SPRINKLER_HOME", "sprinkler.txt"),
        ("What does the -z option of sprinkler do?", "Water only the zones in LIST, separated by commas.", None),
    ],
)
def test_answers_are_the_unit_asked_for_at_its_line_and_column(pad, question, answer, path):
    result = structured.structured_answer(None, pad, question, use_memory=False)
    assert result is not None and result.grounded
    if answer is None:
        assert result.text == "fan_halt"
        return
    assert (result.found, result.text) == (True, answer)
    top = result.sources[0]
    assert path is None or top.path == path
    line = (FIXTURES / top.path).read_text().split("\n")[top.line - 1]
    assert line[top.col - 1 :].startswith(answer) and top.cite == f"{top.path}:{top.line}:{top.col}"
    assert top.quote[top.span[0] : top.span[1]] == answer


def test_a_name_that_ends_in_the_noun_the_question_names_is_marked(pad):
    """ "Which kettle ...": `Kettle` is one, `KettleError` (an error) and `is_full` are not."""
    index, question = ranking.unit_index(pad), "Which kettle holds the most water?"
    ranked = ranking.rank(index, intent.analyse(question), question, keep=1000)
    noun = {index.units[i].name: f[ranking.FEATURES.index("noun")] for _, _, i, f in ranked}
    assert (noun["Kettle"], noun["KettleError"], noun["is_full"]) == (1.0, 0.0, 0.0)


def test_an_option_of_code_is_a_setting_answered_by_its_name(pad):
    """ "Which option ..." of a library is one of its settings (`options.battery = false`): the
    answer is the setting's name, cited where the name is written, not its default."""
    result = structured.structured_answer(None, pad, "Which option keeps the lamp lit during a power cut?", False)
    assert (result.found, result.text) == (True, "battery")
    top = result.sources[0]
    line = (FIXTURES / top.path).read_text().split("\n")[top.line - 1]
    assert top.path == "lamp.js" and line[top.col - 1 :].startswith("battery = false")
    assert top.quote[top.span[0] : top.span[1]] == "battery"
    assert structured.structured_answer(None, pad, "Which option prints nothing?", False).text == "-q, --quiet"


def test_settings_a_doc_comment_documents_are_units():
    """JSDoc documents a function's options in `@param` lines, the default in brackets:
    `[options.warmup=3] - seconds the bulb takes to reach full brightness`."""
    lamp = units_of("lamp.js")
    warmup, motion = lamp[("value", "warmup")], lamp[("option", "motion")]
    assert (warmup.answer, warmup.owner) == ("3", "Lamp constructor")
    assert warmup.doc == "seconds the bulb takes to reach full brightness"
    assert line_col("lamp.js", warmup.line, warmup.col, "3]") and line_col(
        "lamp.js", motion.line, motion.col, "motion]"
    )
    assert ("value", "name") not in lamp and ("option", "name") not in lamp  # a plain parameter: the signature says it


@pytest.mark.parametrize(
    "question, answer",
    [
        ("How long does the bulb take to reach full brightness by default?", "warmup=3"),  # as JSDoc states it
        ("Which option turns the lamp on when somebody walks past?", "motion"),
    ],
)
def test_documented_settings_answer_questions(pad, question, answer):
    result = structured.structured_answer(None, pad, question, use_memory=False)
    assert (result.found, result.text) == (True, answer)
    assert result.sources[0].path == "lamp.js"


def test_settings_a_docstring_lists_are_units():
    """reST's definition list in a docstring: ``keepwarm`` alone on its line, its description
    below, with a default (a value unit, cited where the default is written) or without (an option)."""
    kettle = units_of("kettle.py")
    keepwarm, whistle = kettle[("value", "keepwarm")], kettle[("option", "whistle")]
    assert (keepwarm.answer, keepwarm.owner) == ("False", "Kettle")
    assert line_col("kettle.py", keepwarm.line, keepwarm.col, "False``)")
    assert whistle.doc == "Sound a whistle when the water boils."
    assert line_col("kettle.py", whistle.line, whistle.col, "whistle``")


def test_settings_a_docstring_tabulates_are_units():
    """A two-column table in a docstring: the name, two spaces, its description, continued
    below; its default where the description states one (its last mention), else an option.
    One row alone is no table."""
    text = (
        "def configure(**kwargs):\n"
        '    """Set up the kettle.\n\n'
        "    mode      How to heat: 'boil', 'simmer' (if mode is unspecified,\n"
        "              it defaults to 'boil').\n"
        "    force     If true, replace a setup already made.\n"
        "    Note  this is not a setting.\n"
        '    """\n'
    )
    found = {(u.kind, u.name): u for u in units.file_units("kettle.py", text, "text")}
    mode, force = found[("value", "mode")], found[("option", "force")]
    assert mode.answer == "'boil'" and text.split("\n")[mode.line - 1][mode.col - 1 :] == "'boil')."
    assert force.doc == "If true, replace a setup already made." and not [n for _, n in found if n == "Note"]


def test_a_parameter_is_described_by_its_functions_docstring():
    """A Python parameter's default is a setting; the docstring's `Args:` (or `:param x:`, or
    NumPy's `Parameters`) says what it is for."""
    vinegar = units_of("kettle.py")[("value", "vinegar")]
    assert vinegar.answer == "True" and vinegar.doc.startswith("rinse with vinegar, which smells but works faster.")


@pytest.mark.parametrize(
    "docstring, expected",
    [
        (
            ":param timeout: How long to wait\n    for the server.\n:rtype: bool",
            {"timeout": "How long to wait for the server."},
        ),
        ("Args:\n    retries (int): How many tries.\n\nReturns:\n    bool: done.", {"retries": "How many tries."}),
        ("Parameters\n----------\nwidth : int\n    The width.\n\nReturns\n-------\nNone", {"width": "The width."}),
    ],
)
def test_parameter_docs_in_each_docstring_style(docstring, expected):
    from ttt_read.ask.doc_comments import python_parameter_docs
    from ttt_read.ask.syntax import parser_for

    source = (
        f'def f(timeout=1, retries=2, width=3):\n    """Summary.\n\n{textwrap.indent(docstring, "    ")}\n    """\n'
    )
    function = parser_for("python").parse(source.encode()).root_node.named_children[0]
    assert python_parameter_docs(function) == expected


def test_a_question_about_what_the_sources_never_mention_is_not_found(pad):
    for question in ("Which function uploads files to S3?", "Which class parses YAML configuration?"):
        result = structured.structured_answer(None, pad, question, use_memory=False)
        assert result is not None and not result.found and result.text == "", question


@pytest.mark.parametrize(
    "question, absent",
    [
        ("Where is `AppendQuoteToGraphic` defined?", "AppendQuoteToGraphic"),
        ('What is the first sentence under the heading "9. TERMINATION"?', "9. TERMINATION"),
        ("What does `Lamp.dim()` return?", None),  # each name is there, if not side by side
        ('What is the first sentence under the heading "Environment"?', None),  # any case
        ('What is the first sentence under the heading "SYNOPSIS"?', None),
        ('How do I split "Name <addr@example.com>" into its parts?', None),  # the user's own example
        ("What port does `python -m http.server` listen on?", None),  # a command line, not a name
        ('Fill in the blank: "Water only the ____ in LIST."', None),  # a blank is not checked
        ("What does `$SPRINKLER_HOME` hold?", None),
    ],
)
def test_a_question_quoting_what_no_file_says_is_not_found(pad, question, absent):
    assert quoted.absent_quote(pad, question) == absent


def test_the_baseline_answers_a_definitions_name_or_a_line(pad):
    assert baseline_answer(pad, "Which function removes limescale from the heating element?").text == "descale"
    line = baseline_answer(pad, "What is the default flow of a valve?")
    assert line.found and "DefaultFlow" in line.text and line.sources[0].path == "valve.go"


def test_synonyms_and_lemmas():
    assert lemma("stops") == "stop" and lemma("watchers") == "watcher"
    assert "stop" in synonyms("abort")  # the table of code's words
    assert "ignore" in synonyms("skip") and "unlink" in synonyms("delete")  # code's words for one another
    assert lemma("iterating") == "iterate" and "delete" in synonyms("removes")  # WordNet's, shipped
    assert lemma("xyzzies") == "xyzzies" and synonyms("xyzzy") == ()


def test_answer_regex_sets_load_and_score_as_the_hand_worded_sets_are_scored(tmp_path):
    rows = [
        {"source": "the fixtures"},
        {"question": "Which function removes limescale?", "answer_regex": r"\bdescale\b"},
        {"question": "Which function uploads files?", "answer_regex": None},
        {"question": "Which method dims?", "answer": ["dim", "dim("]},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    items = load_asked(path)
    assert [q.question for q, _ in items] == [r["question"] for r in rows[1:]]
    golds = items[0][1]
    assert isinstance(golds[0], AnswerRegex) and items[1][1] == [] and items[2][1] == ["dim", "dim("]
    assert score("descale", golds) == (True, True) and score("descaler", golds) == (False, False)
    assert score("`descale`", golds) == (False, True)


def test_eval_qa_shows_ask_and_the_baseline_on_the_same_snapshot(capsys, tmp_path):
    from ttt_read.cli import main

    rows = [
        {"source": "tests/fixtures/units"},
        {"question": "Which function removes limescale from the heating element?", "answer_regex": r"\bdescale\b"},
        {"question": "What is the default flow of a new valve?", "answer_regex": r"\b12\b"},
        {"question": "Which function uploads files to S3?", "answer_regex": None},
        {"question": "Where is `AppendQuoteToGraphic` defined?", "answer_regex": None},
    ]
    asked = tmp_path / "set.jsonl"
    asked.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    args = ["eval-qa", str(FIXTURES), "--asked", str(asked), "--setting", "grounded", "--setting", "baseline"]
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--json", "-q"])
    assert not exit_.value.code
    report = json.loads(capsys.readouterr().out)
    ask, base = report["settings"]["grounded"], report["settings"]["baseline"]
    assert (ask["questions"], ask["unanswerable"]) == (2, 2)
    assert ask["right"] == 2 and ask["unanswerable_refused"] == 2
    assert base["right"] >= 1  # the baseline refuses only when no word of the question matches
    answers = {r["question"]: r["answers"] for r in report["questions"]}
    assert answers[rows[1]["question"]]["baseline"]["text"] == "descale"


@pytest.mark.parametrize(
    "forms",
    [
        ("imply", "implies", "implied"),
        ("class", "classes"),
        ("alias", "aliases"),
        ("status", "statuses"),
        ("process", "processes"),
        ("retry", "retries", "retried"),
        ("key", "keys"),
        ("name", "names", "named"),
        ("exact", "exactly"),
    ],
)
def test_a_words_inflections_meet_in_one_stem(forms):
    """A question says "imply" of a method `implies`, "classes" of a `class`: the ranker
    matches them only when each form reduces to the same stem."""
    assert len({stems.stem(w) for w in forms}) == 1, {w: stems.stem(w) for w in forms}


def test_verbs_ending_in_ly_keep_their_ending():
    """`apply` and `reply` are not adverbs: they do not lose "ly" and meet nothing shorter."""
    assert stems.stem("apply") == stems.stem("applies") != stems.stem("app")
    assert stems.stem("reply") != stems.stem("rep")


@pytest.mark.parametrize(
    "question",
    [
        'Fill in the blank: "The element ANY must be defined by an ____ IDENTIFIER."',
        'Fill in the blank: "Chapter 4: Function reference ____ flags: must be zero"',
    ],
)
def test_a_cloze_asks_for_no_kind_of_unit(question):
    """A blank to fill is answered from the passage it was cut from: the kind words inside
    its quoted text ("Function", "element") are the text's, not what it asks for."""
    assert intent.analyse(question) is None


def test_a_name_that_runs_words_together_is_found_by_its_words():
    """`get_lexer_for_filename` is found by "file name": each part's stem is a word the sources use
    (their index holds stems: `fil`, `nam`), and no stem lies inside a word it does not split."""
    from ttt_read.ask.ranking import UnitIndex

    def unit(name: str) -> Unit:
        return Unit(kind="function", name=name, answer=name, path="lexers.py", line=1, col=1)

    index = UnitIndex([unit("get_lexer_for_filename"), unit("open_file"), unit("set_name"), unit("reindent")])
    assert {stems.stem("file"), stems.stem("name")} <= index.fields[0]["name"]
    assert index.fields[3]["name"] == {stems.stem("reindent")}


def test_a_doc_comment_that_says_the_question_words_together_ranks_first():
    """Both doc comments hold every word of the question; the one that says them next to each
    other ("reads the water temperature") is the answer, the one that scatters them is not."""
    from ttt_read.ask.ranking import FEATURES, UnitIndex, rank

    def method(name: str, doc: str) -> Unit:
        return Unit(kind="method", name=name, answer=name, path="boiler.js", line=1, col=1, doc=doc)

    index = UnitIndex(
        [
            method("boilerStatus", "Temperature of the room, water pressure and the sensor read last."),
            method("thermostat", "Read the water temperature from the boiler sensor."),
        ]
    )
    question = "Which method reads the water temperature from the sensor?"
    ranked = rank(index, intent.analyse(question), question)
    pairs = {index.units[i].name: f[FEATURES.index("pairs")] for _, _, i, f in ranked}
    assert pairs == {"thermostat": pytest.approx(2 / 3), "boilerStatus": 0.0}
    assert index.units[ranked[0][2]].name == "thermostat"


def test_not_found_is_fitted_on_the_refusal_features_ask_computes(pad):
    """The refusal is fitted on the candidates in the fitted ranker's order, with its scores:
    the features the fit sees for a question are those `ask` computes for it."""
    import numpy as np

    from ttt_read.ask.ranking import fitted_weights, rank, unit_index
    from ttt_read.train.ranker import add_refusal_features

    index = unit_index(pad)
    weights = np.array(fitted_weights()["weights"])
    for question in ("Which method fades the light down?", "What is the default flow of a new valve?"):
        asked = intent.analyse(question)
        item = {"ranked": rank(index, asked, question, use_weights=False), "asked": (index, asked, question)}
        add_refusal_features([item], weights)
        shown = structured.refusal_features(index, asked, question, rank(index, asked, question))
        assert item["refusal"] == pytest.approx(shown)


def test_two_word_verbs_are_read_as_the_one_word_code_uses():
    """ "turns off" is how people say what code calls `disable`."""
    question = "Which flag turns off the whistle, and which one switches it on?"
    said = {s for s, _, _ in stems.question_terms(question, intent.analyse(question))}
    assert {stems.stem("disable"), stems.stem("enable")} <= said and not said & {"turn", "switch", "off"}
    assert "max" in synonyms("longest") and "max" in synonyms("caps")  # "the longest URL": `MAX_URL_LENGTH`


def test_a_source_file_is_a_unit_described_by_its_header_and_definitions():
    kettle = units.file_units("appliances/kettle.py", (FIXTURES / "kettle.py").read_text())[0]
    assert (kettle.kind, kettle.name, kettle.answer, kettle.owner) == (
        "file",
        "kettle",
        "appliances/kettle.py",
        "appliances",
    )
    assert kettle.doc == "A small kettle controller, written for ttt-read's tests."
    assert {"KettleError", "Kettle", "descale"} <= set(kettle.context.split())
    licensed = "// Copyright 2024 The Gardeners. MIT licence.\n\n// Hoses and their reels.\npackage hose\n"
    assert units.file_units("hose.go", licensed)[0].doc == "Hoses and their reels."
    cookie = '#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n"""Reels for hoses."""\nimport os\n'
    assert units.file_units("reel.py", cookie)[0].doc == "Reels for hoses."


@pytest.mark.parametrize(
    "question, answer",
    [("Which file holds the water valve?", "valve.go"), ("Which module controls the kettle?", "kettle.py")],
)
def test_a_question_for_a_file_gets_its_path(pad, question, answer):
    assert intent.analyse(question).want == "file"
    result = structured.structured_answer(None, pad, question, use_memory=False)
    assert (result.found, result.text) == (True, answer)


def test_a_file_name_pattern_or_a_list_of_files_is_no_source_file():
    for question in ("Which file name pattern does discovery use?", "Which files are searched for credentials?"):
        assert intent.analyse(question).want != "file", question
    assert intent.analyse("In which file is `Kettle` defined?") is None  # the span head's


def test_a_texinfo_entry_defines_what_its_category_says():
    text = (
        "[Function]int hose_open (struct hose *h)\nOpen the tap.\n"
        "[Global flag]hose_flags HOSE_NO_DRIP\nStop the nozzle dripping once the tap is closed.\n"
        "[Return code]hose_rc HOSE_KINKED\nThe hose is bent double.\n"
        "[Data type]hose_t\nA garden hose.\n"
    )
    kinds = {u.name: u.kind for u in units.file_units("hose-api.pdf", text, "pdf")}
    assert kinds == {"hose_open": "function", "HOSE_NO_DRIP": "variable", "HOSE_KINKED": "variable", "hose_t": "type"}


def test_a_flag_is_answered_by_a_flag_constant(tmp_path):
    (tmp_path / "hose-api.txt").write_text(
        "3 Flags\n\n[Global flag]hose_flags HOSE_MIST\nSpray a fine cloud of droplets.\n\n"
        "[Global flag]hose_flags HOSE_NO_DRIP\nDisable dripping once the tap is closed.\n"
    )
    pad = Notepad.build(sources.collect([tmp_path]).files)
    question = "Which flag turns off dripping?"
    assert intent.analyse(question).kind == "flag"
    result = structured.structured_answer(None, pad, question, use_memory=False, in_manual=True)
    assert (result.found, result.text) == (True, "HOSE_NO_DRIP")


def test_a_name_the_question_writes_as_code_is_marked(pad):
    """ "Which method of `Kettle` ...": the class is where to look, not the answer."""
    index, question = ranking.unit_index(pad), "Which method of KettleError or Kettle boils the water?"
    assert ranking.code_names(question, index) == {"KettleError"}  # `Kettle` could be a word
    ranked = ranking.rank(index, intent.analyse(question), question, keep=1000)
    named = {index.units[i].name: f[ranking.FEATURES.index("named")] for _, _, i, f in ranked}
    assert (named["KettleError"], named["boil"]) == (1.0, 0.0)


def test_a_constructor_function_named_as_an_error_answers_an_exception_question():
    asked = intent.analyse("Which error is a cancelled request rejected with?")
    make = lambda name: Unit(kind="function", name=name, answer=name, path="cancel.js", line=1, col=1)  # noqa: E731
    assert ranking.kind_prior(make("CanceledError"), asked) == 1.0
    assert ranking.kind_prior(make("handleError"), asked) == 0.0


@pytest.mark.parametrize(
    "source, read",
    [
        ("npm pack semver@7.6.3; read package", "npm/semver-7.6.3/package"),
        (
            "unzip /jdk/lib/src.zip 'java.base/java/util/zip/*'; read java.base/java/util/zip",
            "unzip/java.base/java/util/zip",
        ),
        (
            "pip download --no-deps --no-binary :all: httpx==0.27.2; tar xzf httpx-0.27.2.tar.gz; "
            "read httpx-0.27.2/httpx",
            "sdist/httpx-0.27.2/httpx",
        ),
        (
            "apt-get download libidn2-doc; dpkg -x libidn2-doc_*.deb x; read x/usr/share/doc/libidn2-doc/libidn2.pdf",
            "deb/libidn2-doc/x/usr/share/doc/libidn2-doc/libidn2.pdf",
        ),
    ],
)
def test_a_question_sets_source_line_says_where_its_sources_are_unpacked(source, read):
    from ttt_read.train.ranker import question_sources

    assert question_sources(source, Path("/src")) == [Path("/src") / read]


@pytest.mark.parametrize(
    "question, message",
    [
        ("Calling getEntry on a closed archive throws what?", False),
        ("What does open() raise when the file is missing?", False),
        ("Reading an encrypted entry fails with what message?", True),
    ],
)
def test_a_question_for_what_is_raised_asks_for_an_error(question, message):
    """No "error" or "exception" said, but "throws what?" asks for one; "Which method raises ...?"
    still asks for a method, and a value that says when something raises for a value."""
    assert intent.analyse(question) == intent.Asked("definition", "exception", message=message)
    assert intent.analyse("Which method raises an error for 4xx responses?").kind == "method"
    assert intent.analyse("Which return_when value makes wait return once a task raises?").kind != "exception"


def test_a_thing_named_with_a_default_is_not_a_question_for_a_default():
    """ "password manager with a default realm" names a class; "the default realm" asks for a value."""
    assert intent.analyse("password manager with a default realm").want == "definition"
    assert intent.analyse("the default realm of the password manager").want == "value"


def test_arithmetic_on_numbers_answers_how_much():
    """`10 * (1 << 20)`, `90 * time.Second`, `0xFFFF` are numbers as code writes them; a string is not."""
    asked = intent.analyse("How large may a compiled program get by default?")
    value = lambda v: Unit(kind="value", name="size_limit", answer=v, path="c.rs", line=1, col=1)  # noqa: E731
    numbers = [ranking.kind_prior(value(v), asked) for v in ("10 * (1 << 20)", "90 * time.Second", "0xFFFF", "1e6")]
    assert asked.numeric and numbers == [ranking.kind_prior(value("10"), asked)] * 4
    assert ranking.kind_prior(value('"large"'), asked) < numbers[0]
    # one test decides it, for a value's text and for a default stated as arithmetic
    assert [syntax.numeric(t) for t in ("-1 * 5", "0o17", "1e-6", "MAX - 1")] == [True] * 4
    assert not any(syntax.numeric(t) for t in ("a - 1", "x == 5", '"5"', "KiB"))


def test_a_default_that_stands_for_not_given_is_a_weak_answer():
    """`timeout=USE_CLIENT_DEFAULT` says the default is decided elsewhere, as `None` does."""
    asked = intent.analyse("What is the default timeout of a client?")
    value = lambda v: Unit(kind="value", name="timeout", answer=v, path="c.py", line=1, col=1)  # noqa: E731
    weak = [ranking.kind_prior(value(v), asked) for v in ("USE_CLIENT_DEFAULT", "None", "_MISSING", "NOT_GIVEN")]
    assert max(weak) < ranking.kind_prior(value("DEFAULT_TIMEOUT"), asked) == ranking.kind_prior(value("5.0"), asked)


def test_the_kind_asked_for_is_read_where_the_question_names_it():
    """ "... gives which error?" asks for an error however late it says so; "What heating method
    ..." asks for a thing the domain names, not a method, where "Which Kettle method" and "What
    static method" ask for methods."""
    asked = intent.analyse
    assert asked("Boiling a kettle that holds no water at all gives which error?").kind == "exception"
    assert asked("What heating method does the kettle use for small amounts?") == intent.Asked("definition", None)
    assert asked("What content type does the lamp report?").kind is None
    assert asked("Which Kettle method brings the water to the boil?").kind == "method"
    assert asked("What static method brings the water to the boil?").kind == "method"


def test_how_to_do_something_may_be_answered_by_a_parameter(pad):
    """ "How do I make descale work faster?": by passing `vinegar`, a parameter with a default."""
    index = ranking.unit_index(pad)
    question = "How do I make descale work faster?"
    asked = intent.analyse(question)
    ranked = ranking.rank(index, asked, question)
    assert asked.kind == "how" and "vinegar" in [index.units[i].name for _, _, i, _ in ranked[:2]]
    parameter = Unit(kind="value", name="vinegar", answer="True", path="k.py", line=1, col=1)
    assert ranking.kind_prior(parameter, asked) > 0
    constant = Unit(kind="value", name="MAX_LITRES", answer="1.7", path="k.py", line=1, col=1)
    assert ranking.kind_prior(constant, asked) == 0


def test_a_name_run_together_is_read_as_code_and_a_lone_symbol_as_its_name(pad):
    """ "urlparse gives 6 parts; what gives 5?" names `urlparse` as the subject, not the answer:
    a name of the sources that is two words run together, not English; "turns + into spaces" says
    what `unquote_plus` is named by."""
    index = ranking.unit_index(pad)
    written = ranking.code_names("Does ringall wake the kettle, or descale, or boil()?", index)
    assert written == {"boil"}  # `ring_all` is not `ringall`; `kettle` and `descale` are words
    runtogether = ranking.UnitIndex(
        [Unit(kind="function", name=n, answer=n, path="p.py", line=1, col=1) for n in ("urlparse", "url", "parse")]
    )
    assert ranking.code_names("urlparse gives 6 parts", runtogether) >= {"urlparse"}
    assert as_code_says("Which function turns + into spaces and * into stars?") == (
        "Which function turns plus into spaces and star into stars?"
    )
    assert as_code_says("What does a+b or 50% mean?") == "What does a+b or 50% mean?"


def test_a_docstrings_summary_line_ends_its_first_sentence():
    """ "Empty the kettle" above a blank line is a sentence, though it has no full stop: the first
    sentence, which the ranker reads apart, does not run on into the next paragraph."""
    text = 'def drain(kettle):\n    """Empty the kettle\n\n    First lets it cool.\n    """\n'
    unit = {(u.kind, u.name): u for u in units.file_units("kettle.py", text, "text")}[("function", "drain")]
    assert unit.doc == "Empty the kettle. First lets it cool."
    assert ranking.UnitIndex([unit]).doc_first[0] == stems.terms("Empty the kettle.")
