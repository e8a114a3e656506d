"""config.toml: the defaults it gives the reading settings, the model and the device, below
command-line flags and the environment, and the one-line error for a bad file."""

from __future__ import annotations

import pytest
from conftest import assert_one_error_line, run_cli, run_in_process, write_config

from ttt_read.core import settings
from ttt_read.core.errors import ExitCode, TTTReadError


def test_missing_config_is_empty(home):
    assert settings.load() == settings.Settings()


def test_config_values(home):
    path = write_config(home, 'model = "mine"\ndevice = "cpu"\n\n[reading]\nlr = 0.5\nchunk = 64\n')
    assert settings.load() == settings.Settings("mine", "cpu", 0.5, 64, path)
    assert settings.config_path() == path


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('modle = "x"\n', "unknown key 'modle'"),
        ("[reading]\nlearning_rate = 1\n", "unknown key 'reading.learning_rate'"),
        ('device = "tpu"\n', "device must be one of auto, cpu, cuda"),
        ("model = 3\n", "model must be"),
        ('[reading]\nlr = "fast"\n', "reading.lr must be"),
        ("[reading]\nlr = nan\n", "reading.lr must be"),
        ("[reading]\nlr = -1.0\n", "reading.lr must be"),
        ("[reading]\nchunk = 0\n", "reading.chunk must be"),
        ("[reading]\nchunk = 1.5\n", "reading.chunk must be"),
        ("reading = 3\n", "reading must be a table"),
        ("model = \n", "not valid TOML"),
        (b"\xff\xfe", "not valid TOML"),
    ],
)
def test_bad_config_is_a_usage_error_naming_the_file(home, text, fragment):
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(TTTReadError) as info:
        settings.load()
    assert info.value.code == ExitCode.USAGE
    assert str(info.value).startswith(str(path)) and fragment in str(info.value), str(info.value)


def test_config_model_is_the_default_below_flag_and_environment(home, monkeypatch, checkpoint_info):
    from ttt_read.read import checkpoint

    write_config(home, 'model = "no-such-model"\n')
    with pytest.raises(TTTReadError) as info:
        checkpoint.resolve(None)
    assert info.value.code == ExitCode.MODEL and "no-such-model" in str(info.value)
    assert checkpoint.resolve("default").path == checkpoint_info.path  # --model wins
    monkeypatch.setenv("TTT_READ_MODEL", "default")
    assert checkpoint.resolve(None).path == checkpoint_info.path  # so does the environment


def test_config_device_replaces_auto(home):
    from ttt_read.read.device import pick_device

    write_config(home, 'device = "cpu"\n')
    assert pick_device("auto") == "cpu"
    assert pick_device("cpu") == "cpu"


def test_bad_config_stops_the_cli_with_one_line(home, tmp_path):
    write_config(home, "[reading]\nchunk = -5\n")
    (tmp_path / "a.txt").write_text("hello\n")
    result = run_cli(home, "ingest", tmp_path / "a.txt", "-o", tmp_path / "a.mem", timeout=120)
    assert_one_error_line(result, ExitCode.USAGE, "config.toml", "reading.chunk")
    assert not (tmp_path / "a.mem").exists()


def test_one_command_reads_config_once(home, tmp_path, monkeypatch, capsys):
    """ingest takes its model, device and reading settings from config.toml: one read."""
    write_config(home, 'model = "default"\ndevice = "cpu"\n\n[reading]\nchunk = 64\n')
    reads = []
    load = settings.load
    monkeypatch.setattr(settings, "load", lambda *args: reads.append(args) or load(*args))
    (tmp_path / "a.txt").write_text("hello\n")
    code, _, err = run_in_process(capsys, "ingest", tmp_path / "a.txt", "-o", tmp_path / "a.mem", "-q")
    assert code == 0, err
    assert len(reads) == 1
    assert settings.current() == load()  # outside a command: the file as it is now
