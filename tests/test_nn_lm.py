"""The character-level language model, its corpus, bits per character and ``nn-demo --task lm``."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from discover.cli import main
from discover.nn import distillation_loss
from discover.nn.charlm import (
    ALPHABET,
    OTHER,
    VOCAB,
    CharLM,
    Corpus,
    CorpusError,
    bits_per_char,
    default_corpus,
    encode,
    split_corpus,
)


@pytest.fixture(autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_encoding_uses_a_fixed_alphabet():
    assert VOCAB == 97 and ALPHABET[0] == "\n" and ALPHABET[1] == " " and ALPHABET[-1] == "~"
    assert encode("a\n~é\t").tolist() == [ALPHABET.index("a"), 0, 95, OTHER, OTHER]


def test_default_corpus_is_the_shipped_python_documentation():
    first, second = default_corpus(), default_corpus()
    assert first.sha256 == second.sha256 and len(first.text) > 300_000
    assert first.name.startswith("pydoc_data.topics (Python ")
    assert "assert" in first.text[:200]


def test_split_corpus_windows_and_test_tail():
    corpus = Corpus("abcdefghij" * 10, "toy")
    data = split_corpus(corpus, max_chars=100, seq_len=8)
    # 90 training characters: 11 windows of 8 inputs (and their next characters); 10 test ones.
    assert data.x_train.shape == data.y_train.shape == (11, 8)
    assert torch.equal(data.x_train.flatten()[1:], data.y_train.flatten()[:-1])
    assert torch.equal(data.test, encode(corpus.text[90:]))
    with pytest.raises(CorpusError, match="too short"):
        split_corpus(Corpus("abc", "tiny"), max_chars=100, seq_len=8)


def test_bits_per_char_of_a_uniform_model_is_log2_vocab():
    model = CharLM(embed=4, hidden=3)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
    tokens = encode("the quick brown fox jumps over the lazy dog " * 5)
    assert bits_per_char(model, tokens, streams=4, chunk=7) == pytest.approx(math.log2(VOCAB), rel=1e-6)  # float32 logits


def test_bits_per_char_matches_a_plain_pass_with_carried_state():
    torch.manual_seed(0)
    model = CharLM(embed=4, hidden=5, factor=0.5)
    tokens = encode("some text to read in one stream, then in chunks")
    whole = model(tokens[:-1].unsqueeze(0))[0]
    expected = F.cross_entropy(whole, tokens[1:]).item() / math.log(2)
    assert bits_per_char(model, tokens, streams=1, chunk=5) == pytest.approx(expected, rel=1e-6)


def test_distillation_loss_flattens_sequence_logits():
    torch.manual_seed(0)
    student, teacher = torch.randn(2, 3, 5), torch.randn(2, 3, 5)
    targets = torch.randint(0, 5, (2, 3))
    torch.testing.assert_close(
        distillation_loss(student, targets, teacher, temperature=2.0, alpha=0.3),
        distillation_loss(student.reshape(6, 5), targets.reshape(6), teacher.reshape(6, 5), temperature=2.0, alpha=0.3),
    )


def test_nn_demo_lm_quick_prints_the_table():
    result = CliRunner().invoke(main, ["nn-demo", "--task", "lm", "--quick", "--budgets", "1"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["model", "bits/char", "mults/char", "adds/char", "mult", "cut", "bpc", "diff"]
    # Quick model: embedding 16, hidden 32. LSTM per char: 4·32·(16 + 32) + 3·32 = 6,240 mults;
    # SPN r = 128 for both products: 128 + 128 + 96 = 352 mults, a 94.4 % cut.
    assert lines[1].startswith("baseline LSTM") and "6,240" in lines[1] and "0.0 %" in lines[1]
    assert lines[2].startswith("SPN r=1x") and " 352 " in lines[2] and "94.4 %" in lines[2]
    assert "pydoc_data.topics" in lines[3]
    assert "seed 0: baseline bpc" in result.stderr


def test_nn_demo_lm_reads_text_files(tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("It was the best of times, it was the worst of times. " * 40, encoding="utf-8")
    result = CliRunner().invoke(main, ["nn-demo", "--task", "lm", "--quick", "--budgets", "0.25", "--text", str(text), "-q"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[2].startswith("SPN r=0.25x") and str(text) in lines[3]
    assert result.stderr == ""


@pytest.mark.parametrize("args,message", [
    (["--task", "lm", "--text", "/nonexistent/corpus.txt"], "error: cannot read --text '/nonexistent/corpus.txt'"),
    (["--text", "x.txt"], "error: --text applies to --task lm only"),
    (["--task", "lm", "--text", "."], "error: cannot read --text '.'"),
    (["--task", "lm", "--patch", "2"], "error: --patch applies to --task image only"),
    (["--task", "lm", "--budgets", "1,x"], "error: --budgets must be comma-separated numbers"),
])
def test_nn_demo_lm_bad_input_is_one_line(args, message, tmp_path):
    result = CliRunner().invoke(main, ["nn-demo", "--quick", *args])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith(message)


def test_nn_demo_lm_too_short_text_is_one_line(tmp_path):
    text = tmp_path / "short.txt"
    text.write_text("too short", encoding="utf-8")
    result = CliRunner().invoke(main, ["nn-demo", "--task", "lm", "--quick", "--text", str(text)])
    assert result.exit_code == 2 and result.stderr.startswith("error: the corpus") and "too short" in result.stderr


def test_lm_demo_is_deterministic_and_parallel_seeds_give_the_same_rows():
    from discover.nn.experiment import Schedule
    from discover.nn.lm_demo import LMSettings, run_lm_demo

    corpus = Corpus("a stitch in time saves nine; " * 200, "proverb")
    settings = LMSettings(max_chars=4000, seq_len=16, embed=8, hidden=8)
    schedule = Schedule(baseline=1, full=1, ternary=1, frozen=1)
    first, second = (run_lm_demo(corpus, (0.5,), (3, 4), schedule, settings, jobs=jobs)[0] for jobs in (1, 2))
    assert [r.name for r in first] == ["baseline LSTM", "SPN r=0.5x"]
    assert [r.scores for r in first] == [r.scores for r in second]
    assert [(r.mults, r.adds) for r in first] == [(r.mults, r.adds) for r in second]
    assert len(first[0].scores) == 2 and first[0].scores[0] != first[0].scores[1]


PARALLEL_AFTER_THREADS = """
import threading
import torch
from discover.nn.experiment import Schedule, Task, run_task
from discover.nn.lm_demo import BPC

HELD = threading.Lock()  # held by the parent while the workers run, as a busy thread's lock may be


def heavy(factor):
    with HELD:  # a forked copy of the held lock never opens; a fresh worker's is free
        y = torch.randn(1500, 1500)
        float((y @ y).sum())  # the worker enters torch's thread pools
    raise ValueError("finished")


def zero(model):
    return 0.0


def no_ops(model):
    return 0, 0


if __name__ == "__main__":
    x = torch.randn(1500, 1500)
    assert torch.isfinite(x @ x).all()  # the parent starts torch's OpenMP pool on every core
    task = Task(torch.zeros(2, 3), torch.zeros(2), heavy, zero, no_ops, BPC, "b", "char", "")
    lines = []
    with HELD:
        try:
            run_task(task, (1.0,), (0, 1), Schedule(1, 1, 1, 1), ["s"], progress=lines.append, jobs=2)
        except RuntimeError as e:
            print(e)
    print("progress lines:", len(lines))
"""


def test_parallel_seeds_finish_after_the_parent_used_torch_threads(tmp_path):
    # The parent has started torch's OpenMP pool and holds a lock: a worker forked from it (a copy
    # of every lock in the state it had) would wait for ever on either (clean-clone CI runs hung
    # so). Run apart, with a timeout, so a regression fails instead of hanging the suite.
    import subprocess
    import sys

    script = tmp_path / "parallel_after_threads.py"
    script.write_text(PARALLEL_AFTER_THREADS, encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "failed: ValueError: finished" in out.stdout
    assert "progress lines: 0" in out.stdout  # the seed failed before its first progress line


def broken_model(factor):
    raise ValueError("no model today")


def zero_score(model):
    return 0.0


def no_ops(model):
    return 0, 0


def test_a_failing_parallel_seed_is_reported():
    from discover.nn.experiment import Schedule, Task, run_task
    from discover.nn.lm_demo import BPC

    # Module functions: the task travels to the workers pickled.
    task = Task(torch.zeros(2, 3), torch.zeros(2), broken_model, zero_score, no_ops, BPC, "b", "char", "")
    with pytest.raises(RuntimeError, match=r"seed \d failed: ValueError: no model today"):
        run_task(task, (1.0,), (0, 1), Schedule(1, 1, 1, 1), ["s"], jobs=2)


def test_a_task_that_does_not_pickle_is_reported_not_hung():
    from discover.nn.experiment import Schedule, Task, run_task
    from discover.nn.lm_demo import BPC

    task = Task(torch.zeros(2, 3), torch.zeros(2), lambda f: None, zero_score, no_ops, BPC, "b", "char", "")
    with pytest.raises(TypeError, match="parallel seeds need a task that pickles .*lambda"):
        run_task(task, (1.0,), (0, 1), Schedule(1, 1, 1, 1), ["s"], jobs=2)
