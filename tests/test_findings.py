"""The GRU-vs-LSTM and parameter-parity findings are computed from the numbers given."""

from __future__ import annotations

from rnnbench.report.aggregate import summarize
from rnnbench.report.claims import five_claims
from rnnbench.report.findings import gru_vs_lstm, markdown, parity
from rnnbench.suite import CellSettings


def _rec(arch: str, backend: str, seed: int, acc: float, epoch_s: float, params: dict[str, int]) -> dict:
    s = CellSettings(arch=arch, backend=backend, seed=seed).model_dump()
    label = {"gru": "GRU", "lstm": "LSTM", "rnn": "SimpleRNN"}[arch] + f" / {backend}"
    epochs = [{"epoch": 1, "wall_s": epoch_s, "test_acc": acc - 0.01, "test_loss": 0.4, "train_loss": 0.5,
               "elapsed_train_s": epoch_s},
              {"epoch": 2, "wall_s": epoch_s, "test_acc": acc, "test_loss": 0.3, "train_loss": 0.3,
               "elapsed_train_s": 2 * epoch_s}]
    return {"label": label, "group": f"{arch}-{backend}", "key": f"{arch}-{backend}-{seed}", "repeat": 0,
            "status": "ok", "run_id": "r", "settings": s, "env": {},
            "metrics": {"params": {**params, "total": sum(params.values())}, "params_total": sum(params.values()),
                        "test_acc": acc, "first_epoch_s": epoch_s, "steady_epoch_s": epoch_s,
                        "steady_step_s": epoch_s / 100, "epochs": epochs,
                        "step_times_s": [[epoch_s / 100 * (1 + seed / 100)] * 100] * 2}}


GRU_P = {"embedding": 2_560_000, "recurrent": 99_072, "head": 129}
LSTM_TORCH = {"embedding": 2_560_000, "recurrent": 132_096, "head": 129}
LSTM_KERAS = {"embedding": 2_560_000, "recurrent": 131_584, "head": 129}


def test_gru_vs_lstm_sentences_come_from_the_numbers() -> None:
    recs = [_rec("gru", "torch", s, a, 60.0, GRU_P) for s, a in ((0, 0.86), (1, 0.87), (2, 0.865))]
    recs += [_rec("lstm", "torch", s, a, 50.0, LSTM_TORCH) for s, a in ((0, 0.865), (1, 0.875), (2, 0.87))]
    summary = summarize(recs)
    (check,) = gru_vs_lstm(summary)
    text = " ".join(check.sentences)
    assert "GRU has 33,024 fewer recurrent parameters (99,072 vs 132,096, 25.0% fewer)" in text
    assert "GRU saves a lot of training time (≥ 10%): does not hold" in text and "GRU / LSTM 1.200" in text
    # one source of verdicts: each sentence says what the claims table says of the same rows
    claims = {c.claim: c for c in five_claims(summary)}
    assert f"GRU as accurate as LSTM: {claims[1].verdict}" in text and claims[1].evidence in text
    assert claims[5].evidence in text


def test_gru_vs_lstm_single_runs_make_no_verdict_where_the_claims_table_makes_none() -> None:
    """Issue 31: with one seed a side the findings said "GRU matched LSTM's accuracy" and "GRU is 79%
    slower" while the claims table, from the same data, said inconclusive."""
    recs = [_rec("gru", "torch", 0, 0.7105, 60.0, GRU_P), _rec("lstm", "torch", 0, 0.6775, 50.0, LSTM_TORCH)]
    (check,) = gru_vs_lstm(summarize(recs))
    text = " ".join(check.sentences)
    assert "matched" not in text and "% slower" not in text
    assert "GRU as accurate as LSTM: inconclusive" in text and "only 1 seed a side" in text
    assert "at the last epoch epoch" not in text and "at the selected epoch (last epoch)" in text


def test_parity_names_the_lstm_bias_difference() -> None:
    recs = [_rec("lstm", "torch", 0, 0.86, 50.0, LSTM_TORCH), _rec("lstm", "keras-tensorflow", 0, 0.86, 50.0, LSTM_KERAS),
            _rec("gru", "torch", 0, 0.86, 50.0, GRU_P), _rec("gru", "keras-tensorflow", 0, 0.86, 50.0, GRU_P)]
    groups = {g.label: g for g in parity(summarize(recs))}
    assert groups["GRU"].equal and not groups["LSTM"].equal
    assert any("512" in n for n in groups["LSTM"].notes), groups["LSTM"].notes
    md = "\n".join(markdown(summarize(recs)))
    assert "## Parameter parity across backends" in md and "## GRU vs LSTM" in md


def _with_env(rec: dict, **env: object) -> dict:
    return {**rec, "env": dict(env)}


def test_gru_vs_lstm_names_the_kernels_that_ran_and_html_shows_it() -> None:
    from rnnbench.report.findings import html

    onednn = "oneDNN RNN kernel (aten::mkldnn_rnn_layer, MkldnnRnnLayerBackward0)"
    aten = "ATen's own CPU loop (aten::gru: one matmul per step, autograd through each op)"
    recs = [_with_env(_rec("gru", "torch", s, 0.86, 60.0, GRU_P), kernel=aten, threads=2) for s in (0, 1)]
    recs += [_with_env(_rec("lstm", "torch", s, 0.86, 50.0, LSTM_TORCH), kernel=onednn, threads=2) for s in (0, 1)]
    summary = summarize(recs)
    (check,) = gru_vs_lstm(summary)
    assert any(f"GRU: {aten}; LSTM: {onednn}" in s for s in check.sentences)
    page = html(summary)
    assert "GRU vs LSTM — torch" in page and "mkldnn_rnn_layer" in page


def test_thread_differences_are_reported() -> None:
    from rnnbench.report.findings import thread_differences

    recs = [_with_env(_rec("gru", "torch", 0, 0.86, 60.0, GRU_P), threads=2, interop_threads=2, cpu_affinity=[0, 1]),
            _with_env(_rec("gru", "keras-jax", 0, 0.86, 60.0, GRU_P), threads=1, cpu_affinity=[0])]
    diffs = thread_differences(summarize(recs))
    assert diffs == ["1 (cores 0): GRU / keras-jax", "2 (inter-op 2; cores 0,1): GRU / torch"]
    same = [_with_env(_rec(a, "torch", 0, 0.86, 60.0, GRU_P), threads=2) for a in ("gru", "lstm")]
    assert thread_differences(summarize(same)) == []
    assert "## Threads differ" in "\n".join(markdown(summarize(recs)))


def test_the_same_loop_over_two_cells_is_not_called_different_kernels() -> None:
    loop = "generic keras backend rnn: tf.while_loop over {}.call (oneDNN/Eigen matmuls inside each step)"
    recs = [_with_env(_rec("gru", "keras-tensorflow", s, 0.86, 60.0, GRU_P), kernel=loop.format("GRUCell"))
            for s in (0, 1)]
    recs += [_with_env(_rec("lstm", "keras-tensorflow", s, 0.86, 50.0, LSTM_KERAS), kernel=loop.format("LSTMCell"))
             for s in (0, 1)]
    (check,) = gru_vs_lstm(summarize(recs))
    assert any(s.startswith("Both ran the same kind of kernel") for s in check.sentences)
    assert not any("different kernels" in s for s in check.sentences)
