"""Messages and progress: the "snode" logger (a NullHandler only), the progress display (a
tqdm bar on a terminal, plain lines elsewhere), the estimators' verbose and log records, and
the command line's notes."""
import io
import logging

import numpy as np
import pytest

import snode
from snode import cli
from snode import datasets as ds
from snode.progress import Progress


def test_the_library_logger_has_a_null_handler_only():
    handlers = logging.getLogger("snode").handlers
    assert handlers and all(isinstance(h, logging.NullHandler) for h in handlers)


def test_plain_lines_at_most_every_so_often_and_the_last():
    out = io.StringIO()
    with Progress(5, "work", stream=out, every=3600.0) as p:
        for _ in range(5):
            p.update(status="ok")
    assert out.getvalue() == "work 5/5 ok\n"  # (only the last: the interval never passed)
    out = io.StringIO()
    p = Progress(3, stream=out, every=0.0, final=False, line=lambda n, s: f"<{n}|{s}>")
    for k in range(3):
        p.update(status=str(k))
    p.write("between")
    assert out.getvalue().splitlines() == ["<1|0>", "<2|1>", "between"]
    assert p.count == 3
    out = io.StringIO()
    p = Progress(None, stream=out, every=0.0, disable=True)
    p.update(4)
    p.write("hidden")
    assert out.getvalue() == "" and p.count == 4


def test_one_final_line_past_the_total_and_bad_counts_refused():
    out = io.StringIO()
    p = Progress(3, "over", stream=out, every=3600.0)
    for _ in range(6):
        p.update()
    assert out.getvalue() == "over 3/3\n" and p.count == 6
    out = io.StringIO()
    p = Progress(0, "zero", stream=out, every=3600.0)
    p.update()
    p.update()
    assert out.getvalue() == "zero 1/0\n"
    for bad in ("10", -1, 2.5, True):
        with pytest.raises(ValueError, match="total"):
            Progress(bad)
    with pytest.raises(ValueError, match="every"):
        Progress(3, every=-1.0)
    p = Progress(5, stream=io.StringIO())
    for bad in (-3, 1.5, "2"):
        with pytest.raises(ValueError, match="n must"):
            p.update(bad)
    assert p.count == 0  # (a refused update counts nothing)

    class NoFlush:  # (a stream without flush, as some wrappers of stdout are)
        def __init__(self):
            self.text = ""

        def write(self, text):
            self.text += text

    stream = NoFlush()
    p = Progress(2, "x", stream=stream, every=0.0)
    p.update(status=None)
    assert stream.text == "x 1/2\n"


def test_a_tqdm_bar_where_asked_and_messages_above_it():
    pytest.importorskip("tqdm")
    out = io.StringIO()
    with Progress(4, "fit", stream=out, bar=True) as p:
        for _ in range(4):
            p.update(status="cost 0.5")
        p.write("a message")
    text = out.getvalue()
    assert "fit" in text and "4/4" in text and "cost 0.5" in text and "a message" in text
    # no terminal, no bar (unless asked): plain lines
    out = io.StringIO()
    with Progress(2, "fit", stream=out, every=0.0) as p:
        p.update()
    assert out.getvalue() == "fit 1/2\n"


def test_fit_logs_its_messages_and_verbose_prints_them(caplog, capsys):
    X, y = ds.moons(60, seed=0)
    with caplog.at_level(logging.DEBUG, logger="snode"):
        est = snode.SNODEClassifier(n_steps=3, max_iter=4, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""  # not verbose: nothing printed
    messages = [r.getMessage() for r in caplog.records if r.name == "snode.estimators"]
    assert messages[-1].startswith(f"Training ended after {est.n_iter_} iterations")
    iterations = [m for m in messages if m.startswith("Iteration ")]
    assert len(iterations) == est.n_iter_
    assert float(iterations[0].split("loss = ")[1]) == pytest.approx(est.loss_curve_[0])
    # verbose: shown on stdout instead, not logged as well (no message twice where the
    # application configured logging too)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="snode"):
        snode.SNODEClassifier(n_steps=3, max_iter=4, random_state=0, verbose=True).fit(X, y)
    out = capsys.readouterr().out
    assert "Training ended after" in out and "Iteration 1, loss = " in out
    assert not [r for r in caplog.records if r.name == "snode.estimators"]


def test_cli_notes_on_stderr_unless_quiet(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    table = tmp_path / "d.csv"
    table.write_text("a,b,label\n" + "\n".join(f"{u},{v},{int(u > 0)}" for u, v in X))
    model = tmp_path / "m.npz"
    assert cli.main(["train", "-q", "--dataset", f"csv:{table}", "--steps", "2",
                     "--max-iter", "3", "-o", str(model)]) == 0
    capsys.readouterr()
    swapped = tmp_path / "s.csv"
    swapped.write_text("b,a,label\n" + "\n".join(f"{v},{u},{int(u > 0)}" for u, v in X))
    assert cli.main(["evaluate", str(model), "--dataset", f"csv:{swapped}"]) == 0
    assert "note: the columns of" in capsys.readouterr().err
    # (the command's handler is gone afterwards: nothing left on the library's logger)
    assert all(isinstance(h, logging.NullHandler)
               for h in logging.getLogger("snode").handlers)
