"""Keras 3 adapter (``keras-tensorflow``, ``keras-torch``, ``keras-jax``).

The same model as the PyTorch adapter: Embedding (no masking) → ``layers`` recurrent layers
(GRU / LSTM / SimpleRNN; ``return_sequences`` on all but the last; ``Bidirectional`` with
concat when bidirectional) each followed by ``Dropout(dropout)`` → Dense(1, sigmoid),
binary cross-entropy, Adam. Keras fixes its backend when it is imported, from
``KERAS_BACKEND``, which :mod:`rnnbench.cellenv` sets in the parent before the worker starts;
the adapter refuses to run a cell whose backend differs from the one Keras loaded.

Training is ``model.fit`` for one epoch with a callback that turns each step's loss into a
Python float (which waits for the step: JAX dispatches asynchronously) and then calls
``on_step`` — so the harness's clock ticks after every completed step.

Which kernel runs (checked against Keras 3.15 ``keras/src/layers/rnn/{gru,lstm}.py`` and
``keras/src/backend/*/rnn.py``) is worked out by :func:`kernel_path` and reported by
``describe()``.
"""

from __future__ import annotations

import os
import random
import sys
from typing import TYPE_CHECKING, Any, Callable, Iterator

import keras
import numpy as np

from rnnbench.cellenv import resolved_threads

if TYPE_CHECKING:
    from rnnbench.suite import CellSettings

_DEFAULT_EPSILON = 1e-7  # keras.optimizers.Adam's default
_LAYER_CLASS = {"gru": "GRU", "lstm": "LSTM", "rnn": "SimpleRNN"}
PREFETCH = 1  # one batch ahead: the next batch is sliced while a step runs (benchmarks/keras_feed.py)


# -- which kernel runs ---------------------------------------------------------------------


def fused_conditions(s: "CellSettings") -> list[str]:
    """Settings that take a Keras GRU/LSTM off its fused (cuDNN / backend fast) path."""
    flags: list[str] = []
    if s.impl == "cell":
        flags.append('impl = "cell": an explicit keras.ops cell under keras.layers.RNN, '
                     "always the generic step-by-step backend loop")
    if s.arch in ("gru", "lstm") and s.recurrent_dropout > 0:
        flags.append(f"recurrent_dropout = {s.recurrent_dropout}: Keras's {_LAYER_CLASS[s.arch]} skips "
                     "backend.gru/lstm (cuDNN and the fast paths) and runs its cell step by step")
    if s.arch == "gru" and s.gru_reset != "after":
        flags.append('gru_reset = "before" (reset_after=False): no cuDNN kernel and no fast GRU path '
                     "on any backend; the cell runs step by step")
    if s.arch == "rnn":
        flags.append("SimpleRNN: Keras has no fused SimpleRNN kernel on any backend")
    return flags


def kernel_path(s: "CellSettings", backend: str, gpu: bool = False) -> tuple[str, list[str]]:
    """(the implementation that runs, the reasons it is not the fused one).

    The fused path needs tanh/sigmoid activations, a bias, ``unroll=False``, no mask, no
    ``recurrent_dropout`` and, for GRU, ``reset_after=True`` — rnnbench sets the first four
    always (no activations or unroll settings, no masking). cuDNN then needs a GPU.
    """
    flags = fused_conditions(s)
    cls = _LAYER_CLASS[s.arch]
    cell = "explicit cell" if s.impl == "cell" else f"{cls}Cell"
    eligible = s.arch in ("gru", "lstm") and not flags
    generic = {
        "tensorflow": f"generic keras backend rnn: tf.while_loop over {cell}.call "
                      "(oneDNN/Eigen matmuls inside each step)",
        "jax": f"generic keras backend rnn: lax.scan over {cell}.call (XLA-compiled)",
        "torch": f"generic keras backend rnn: Python time loop over {cell}.call (eager torch ops)",
    }[backend]
    if not eligible:
        return generic, flags
    if gpu:
        if backend == "tensorflow":
            return f"cuDNN {cls} (tf CudnnRNNV3 via keras backend.{s.arch})", flags
        if backend == "torch":
            return f"cuDNN {cls} (torch._VF.{s.arch} via keras backend.{s.arch})", flags
        if backend == "jax" and s.arch == "lstm":
            return "cuDNN LSTM (jax.experimental.rnn via keras backend.lstm)", flags
    if backend == "tensorflow":
        return generic, ["no GPU: Keras's backend.gru/lstm on TensorFlow is cuDNN only and "
                         "raises NotImplementedError on CPU, so the generic loop runs"]
    if backend == "jax":
        if s.arch == "gru":
            return ("keras backend.jax gru: input projections of all steps in one matmul, then "
                    "lax.scan over the recurrent matmul (XLA-compiled)"), flags
        return generic, ["no GPU: Keras's JAX LSTM fast path is cuDNN only (jax.experimental.rnn)"]
    # torch on CPU
    return (f"keras backend.torch _fallback_{s.arch}: input projections of all steps in one matmul, "
            "then a Python loop over the recurrent step (eager torch ops)"), flags


# -- the model -----------------------------------------------------------------------------


def iter_cells(model: keras.Model, layers: int, bidirectional: bool) -> Iterator[tuple[int, int, Any]]:
    """(layer, direction, cell) for each recurrent layer and direction, in order."""
    for layer in range(layers):
        rnn = model.get_layer(f"rnn_{layer}")
        if bidirectional:
            yield layer, 0, rnn.forward_layer.cell
            yield layer, 1, rnn.backward_layer.cell
        else:
            yield layer, 0, rnn.cell


def _recurrent_layer(s: "CellSettings", return_sequences: bool, go_backwards: bool, name: str) -> Any:
    if s.impl == "cell":
        if s.recurrent_dropout > 0:
            raise ValueError('recurrent_dropout is not implemented by rnnbench\'s explicit Keras cells; '
                             'use impl = "fused" (Keras\'s own cells) for recurrent dropout')
        from rnnbench.backends.keras_cells import explicit_rnn

        return explicit_rnn(s.arch, s.units, reset_after=s.gru_reset == "after",
                            return_sequences=return_sequences, go_backwards=go_backwards, name=name)
    kwargs: dict[str, Any] = {
        "units": s.units,
        "return_sequences": return_sequences,
        "go_backwards": go_backwards,
        "recurrent_dropout": s.recurrent_dropout,
        "name": name,
    }
    if s.arch == "gru":
        kwargs["reset_after"] = s.gru_reset == "after"
    return getattr(keras.layers, _LAYER_CLASS[s.arch])(**kwargs)


def classic_stack(x: Any, s: "CellSettings") -> Any:
    """The built-in GRU / LSTM / SimpleRNN stack on the embedded tensor ``x``: layers named
    ``rnn_0`` … (``Bidirectional`` with concat when bidirectional), each followed by
    ``Dropout(dropout)``; the last returns its final state."""
    for layer in range(s.layers):
        seq = layer < s.layers - 1
        if s.bidirectional:
            rnn = keras.layers.Bidirectional(
                _recurrent_layer(s, seq, False, f"forward_{layer}"),
                backward_layer=_recurrent_layer(s, seq, True, f"backward_{layer}"),
                merge_mode="concat",
                name=f"rnn_{layer}",
            )
        else:
            rnn = _recurrent_layer(s, seq, False, f"rnn_{layer}")
        x = rnn(x)
        x = keras.layers.Dropout(s.dropout, name=f"dropout_{layer}")(x)
    return x


def build_model(s: "CellSettings", vocab_size: int) -> keras.Model:
    """The uncompiled classifier (``init`` applied): Embedding → the architecture's layer
    (:mod:`rnnbench.architectures`) → Dense(1, sigmoid). Layers are named ``embedding``, ``head``,
    and for the built-ins ``rnn_0`` … ``rnn_{layers-1}`` and ``dropout_*``; a plugin's layer is
    ``rnn`` followed by ``dropout``."""
    from rnnbench.architectures import CLASSIC, load

    arch = load(s.arch)
    if not arch.supports("keras"):
        raise ValueError(f"architecture {arch.label} has no Keras layer (it supports: "
                         f"{', '.join(arch.frameworks) or 'nothing'})")
    arch.check(s)
    inputs = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocab_size, s.embedding_dim, name="embedding")(inputs)
    if s.arch in CLASSIC:  # the built-ins' layers are this backend's own (explicit cells, init schemes)
        x = classic_stack(x, s)
    else:
        layer = arch.keras_layer(s)
        layer.name = "rnn"  # type: ignore[misc]
        x = keras.layers.Dropout(s.dropout, name="dropout")(layer(x))
    outputs = keras.layers.Dense(1, activation="sigmoid", name="head")(x)
    model = keras.Model(inputs, outputs, name=f"{s.arch}_classifier" if s.arch in CLASSIC else "plugin_classifier")
    if s.init == "torch":
        if s.arch not in CLASSIC:
            raise ValueError('init = "torch" is defined for the built-in GRU, LSTM and SimpleRNN only')
        from rnnbench.backends.keras_init import apply_torch_init

        apply_torch_init(
            model.get_layer("embedding"),
            [c for _, _, c in iter_cells(model, s.layers, s.bidirectional)],
            model.get_layer("head"),
            s.units,
            s.seed,
        )
    return model


def seed_keras(seed: int, backend: str) -> None:
    """``keras.utils.set_random_seed``, without importing TensorFlow into a JAX/torch process.

    Keras's function also calls ``tf.random.set_seed`` whenever TensorFlow is *installed*,
    which imports it (~3-7 s, a few hundred MB of RSS and TensorFlow's thread pools) into a
    keras-jax or keras-torch cell. Off TensorFlow we do what it does minus that line.
    """
    if backend == "tensorflow" or "tensorflow" in sys.modules:
        keras.utils.set_random_seed(seed)
        return
    try:
        from keras.src.backend.common import global_state
        from keras.src.random import seed_generator
        from keras.src.utils import rng_utils
    except ImportError:  # Keras moved its internals: accept the import
        keras.utils.set_random_seed(seed)
        return
    global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    random.seed(seed)
    np.random.seed(seed)
    if backend == "torch":
        import torch

        torch.manual_seed(seed)


def _tf_graph_ops(model: keras.Model, x: np.ndarray, y: np.ndarray) -> list[str]:
    """Op types in a traced forward + backward graph, the functions it calls included."""
    import tensorflow as tf

    loss_fn = keras.losses.BinaryCrossentropy()

    @tf.function
    def step(xb: Any, yb: Any) -> Any:
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        return tape.gradient(loss, model.trainable_variables)

    graph = step.get_concrete_function(tf.constant(x), tf.constant(y)).graph
    ops = {op.type for op in graph.get_operations()}
    for fn in graph.as_graph_def().library.function:
        ops.update(node.op for node in fn.node_def)
    return sorted(ops)


def _no_gpu(backend: str) -> str | None:
    """Why Keras's backend framework sees no GPU in this process (None: it sees one)."""
    if backend == "tensorflow":
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            return None
        return f"TensorFlow {tf.__version__} sees no GPU (tf.config.list_physical_devices('GPU') is empty)"
    if backend == "jax":
        import jax

        if jax.default_backend() == "gpu":
            return None
        return f"JAX {jax.__version__} runs on {jax.default_backend()} (no CUDA plugin or no GPU)"
    import torch

    if torch.cuda.is_available():
        return None
    return f"torch {torch.__version__} sees no CUDA GPU (torch.cuda.is_available() is False)"


def _gpu_facts(backend: str) -> dict[str, Any]:
    """The GPU as the backend framework sees it (model, CUDA and cuDNN it was built with), and the driver."""
    from rnnbench.gpus import gpu_facts

    facts: dict[str, Any] = {}
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        details = tf.config.experimental.get_device_details(gpus[0]) if gpus else {}
        build = tf.sysconfig.get_build_info()
        facts.update({"gpu_name": details.get("device_name"), "cuda": build.get("cuda_version"),
                      "cudnn": build.get("cudnn_version")})
    elif backend == "jax":
        import jax

        facts.update({"gpu_name": jax.devices()[0].device_kind})
    else:
        import torch

        facts.update({"gpu_name": torch.cuda.get_device_name(0), "cuda": torch.version.cuda,
                      "cudnn": torch.backends.cudnn.version()})
    drivers = {g["driver"] for g in gpu_facts()}
    facts["gpu_driver"] = drivers.pop() if len(drivers) == 1 else None
    return facts


class _StepCallback(keras.callbacks.Callback):
    """Waits for each training step (float of its loss) and ticks the harness's clock."""

    def __init__(self, on_step: Callable[[], None]) -> None:
        super().__init__()
        self.on_step = on_step
        self.last_loss = float("nan")
        self.steps = 0

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if logs and "loss" in logs:
            self.last_loss = float(logs["loss"])  # blocks until the step has completed
        self.steps += 1
        self.on_step()


class KerasBackend:
    framework = "keras"
    # No forward/backward/optimizer split: a clock between them would need the train step taken apart
    phase_note = ("not split: Keras's fit runs forward, backward and the optimizer update as one "
                  "train-step function (a tf.function, jax.jit or torch call) with no clock between them")

    def __init__(self, settings: "CellSettings") -> None:
        self.s = settings
        want = settings.backend.removeprefix("keras-")
        got = keras.backend.backend()
        if got != want:
            raise RuntimeError(
                f"Keras loaded the '{got}' backend but the cell asks for '{settings.backend}': "
                f"KERAS_BACKEND (now {os.environ.get('KERAS_BACKEND')!r}) must be '{want}' before "
                "keras is imported (rnnbench.cellenv sets it for the worker process)"
            )
        self.keras_backend = got
        self.threads = resolved_threads(settings)
        self.thread_note = ""
        if got == "torch":
            import torch

            torch.set_num_threads(self.threads)
            torch.set_flush_denormal(settings.flush_denormal)
            torch.backends.mkldnn.enabled = settings.onednn
        elif got == "tensorflow":
            import tensorflow as tf

            try:  # TF also reads TF_NUM_INTRA/INTEROP_THREADS (set by cellenv); this is belt and braces
                tf.config.threading.set_intra_op_parallelism_threads(self.threads)
                tf.config.threading.set_inter_op_parallelism_threads(self.threads)
            except RuntimeError:
                self.thread_note = "TensorFlow was already initialized: thread counts from the environment"
        else:
            self.thread_note = ("XLA has no thread-count setting: it sizes its CPU pool from the process's "
                                "CPU affinity, which rnnbench pins to `threads` cores")
        if settings.device != "cpu":
            reason = _no_gpu(got)
            if reason:
                from rnnbench.backends.base import DeviceUnavailable

                raise DeviceUnavailable(f"device = {settings.device!r}: {reason}")
        seed_keras(settings.seed, got)
        self.model: keras.Model | None = None
        self.kernel_ops: list[str] | None = None
        self.kernel_source = "from the settings (Keras's source, see kernel_path)"

    # -- contract ------------------------------------------------------------------------

    def build(self, vocab_size: int) -> None:
        s = self.s
        self.model = build_model(s, vocab_size)
        eps = s.adam_epsilon if s.adam_epsilon is not None else _DEFAULT_EPSILON
        opt = (keras.optimizers.RMSprop(learning_rate=s.learning_rate) if s.optimizer == "rmsprop"
               else keras.optimizers.Adam(learning_rate=s.learning_rate, epsilon=eps))
        self.model.compile(optimizer=opt, loss="binary_crossentropy", jit_compile=self._jit_compile())

    def _jit_compile(self) -> bool | str:
        """Keras's ``jit_compile`` for the cell's mode: compiled = True (XLA on TensorFlow and JAX,
        torch.compile on torch); eager = False, except on JAX, whose default (jax.jit) is kept —
        op-by-op JAX is no one's way to train. Keras's "auto" would turn XLA on for TensorFlow on
        a GPU, so eager says False explicitly."""
        if self.s.mode == "compiled":
            return True
        return "auto" if self.keras_backend == "jax" else False

    def cells(self) -> list[Any]:
        assert self.model is not None
        return [c for _, _, c in iter_cells(self.model, self.s.layers, self.s.bidirectional)]

    def param_counts(self) -> dict[str, int]:
        assert self.model is not None
        m = self.model
        parts = {"embedding": m.get_layer("embedding").count_params(), "head": m.get_layer("head").count_params()}
        parts["total"] = m.count_params()
        parts["recurrent"] = parts["total"] - parts["embedding"] - parts["head"]
        return parts

    def train_epoch(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        on_step: Callable[[], None],
        max_steps: int | None,
    ) -> float:
        assert self.model is not None
        if max_steps is not None:
            x, y = x[: max_steps * batch_size], y[: max_steps * batch_size]
        cb = _StepCallback(on_step)
        history = self.model.fit(
            *self._feed(x, y, batch_size),
            epochs=1,
            shuffle=False,
            steps_per_epoch=None,  # x was cut to max_steps batches above
            verbose=0,
            callbacks=[cb],
        )
        losses = history.history.get("loss") or [cb.last_loss]
        return float(losses[-1])  # Keras's epoch loss: the sample-weighted mean over the epoch's steps

    def _feed(self, x: np.ndarray, y: np.ndarray | None, batch_size: int) -> tuple[Any, ...]:
        """What ``fit`` and ``predict`` are given, in order; the batches are the same on every backend.

        Keras-JAX and Keras-torch take the arrays. On TensorFlow, Keras would wrap arrays in a
        tf.data pipeline with autotuning on, and when ``fit`` (or ``predict``) returns, the
        pipeline's iterator is destroyed: the destruction waits for tf.data's autotuning thread
        to wake, on a period that doubles (~2.56 s, 5.12 s, 10.24 s, ...). That wait was counted
        in the epoch's wall time (up to 2× the steps' sum, issue 29). So on TensorFlow the
        batches come from a dataset built here with autotuning off (one batch prefetched), whose
        iterator ends at once. Interleaved in one process (benchmarks/keras_feed.py), its summed steps
        are those of Keras's own pipeline (ratio 0.998 at 1 thread, 0.972 at 2) and the gap is gone.
        """
        xs = np.asarray(x, dtype="int32")
        ys = None if y is None else np.asarray(y, dtype="float32")
        if self.keras_backend != "tensorflow":
            return (xs, ys, batch_size) if ys is not None else (xs, batch_size)
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices(xs if ys is None else (xs, ys)).batch(batch_size)
        ds = ds.prefetch(PREFETCH)
        options = tf.data.Options()
        options.autotune.enabled = False
        options.experimental_optimization.apply_default_optimizations = False  # as Keras's own pipeline
        return (ds.with_options(options),)

    def profile_step(self, x: np.ndarray, y: np.ndarray) -> list[str] | None:
        """Op names of one forward + backward, where the framework shows them cheaply.

        keras-torch: torch's profiler over ``model(x)`` and the loss's backward (the weights are
        not updated). keras-tensorflow: the op types of the traced training function's graph,
        its loop bodies included (oneDNN's rewrites happen later, inside TensorFlow's runtime,
        and do not show). keras-jax: none collected (the kernel is inferred from Keras's source).
        """
        assert self.model is not None
        model = self.model
        xb, yb = np.asarray(x, dtype="int32"), np.asarray(y, dtype="float32").reshape(-1, 1)
        if self.keras_backend == "torch":
            import torch

            from rnnbench.backends.kernels import profile_torch

            xt, yt = keras.ops.convert_to_tensor(xb), keras.ops.convert_to_tensor(yb)  # on the model's device

            def step() -> None:
                p = model(xt, training=True)
                torch.nn.functional.binary_cross_entropy(p, yt).backward()

            self.kernel_ops = profile_torch(step)
            self.kernel_source = "profiled step (torch profiler)"
            for v in model.trainable_variables:
                getattr(v, "value", v).grad = None
        elif self.keras_backend == "tensorflow":
            self.kernel_ops = _tf_graph_ops(model, xb, yb)
            self.kernel_source = "op types of the traced training graph (tf.function)"
        return self.kernel_ops

    def get_weights(self) -> list[Any]:
        assert self.model is not None
        return [np.array(w, copy=True) for w in self.model.get_weights()]

    def set_weights(self, weights: list[Any]) -> None:
        assert self.model is not None
        self.model.set_weights(weights)

    @property
    def infer_note(self) -> str:
        fn = "tf.function" if self.keras_backend == "tensorflow" else "eager calls"
        return (f"requests: model.predict_on_batch (Keras's compiled predict function); streaming: the "
                f"embedding, the recurrent cells' step and the head in {fn}")

    def infer_function(self) -> Callable[[np.ndarray], Any]:
        """One request through Keras's own inference entry point (its compiled predict function)."""
        assert self.model is not None
        model = self.model
        return lambda x: model.predict_on_batch(np.asarray(x, dtype="int32"))

    def stream_functions(self) -> tuple[Callable[[], Any], Callable[[int, Any], tuple[float, Any]]] | str:
        """(fresh state, one token → (probability, state)): the recurrent cells called one step at a
        time (a plugin layer's ``step``), in a tf.function on TensorFlow; or why not."""
        from rnnbench.architectures import CLASSIC

        assert self.model is not None
        model, s = self.model, self.s
        if s.bidirectional:
            return "not streamed: a bidirectional layer reads the sequence from its end"
        embedding, head = model.get_layer("embedding"), model.get_layer("head")
        if s.arch in CLASSIC:
            cells = [model.get_layer(f"rnn_{i}").cell for i in range(s.layers)]
            sizes = [c.state_size if isinstance(c.state_size, (list, tuple)) else [c.state_size] for c in cells]

            def core(x_t: Any, states: Any) -> tuple[Any, Any]:
                new = []
                for cell, st in zip(cells, states):
                    x_t, st = cell(x_t, list(st), training=False)
                    new.append(list(st) if isinstance(st, (list, tuple)) else [st])
                return x_t, new

            def init() -> Any:
                return [[keras.ops.zeros((1, n)) for n in group] for group in sizes]
        else:
            layer = model.get_layer("rnn")
            if not (hasattr(layer, "step") and hasattr(layer, "init_state")):
                return (f"not streamed: {s.arch}'s Keras layer has no step(x_t, state) and init_state(batch) "
                        "(see rnnbench.architectures.base)")
            core = layer.step

            def init() -> Any:
                return layer.init_state(1)

        def raw(token: Any, states: Any) -> tuple[Any, Any]:
            features, states = core(embedding(token), states)
            return head(features), states

        fn = raw
        if self.keras_backend == "tensorflow":
            import tensorflow as tf

            fn = tf.function(raw, reduce_retracing=True)

        def step(token: int, state: Any) -> tuple[float, Any]:
            p, state = fn(keras.ops.convert_to_tensor(np.array([token], dtype="int32")), state)
            return float(keras.ops.convert_to_numpy(p)[0, 0]), state

        return init, step

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> tuple[float, float]:
        assert self.model is not None
        p = np.asarray(self.model.predict(*self._feed(x, None, batch_size), verbose=0),
                       dtype=np.float64).reshape(-1)
        yt = np.asarray(y, dtype=np.float64).reshape(-1)
        eps = 1e-7  # Keras's binary_crossentropy clipping
        pc = np.clip(p, eps, 1 - eps)
        loss = float(-np.mean(yt * np.log(pc) + (1 - yt) * np.log(1 - pc)))
        acc = float(np.mean((p > 0.5) == (yt > 0.5)))
        return loss, acc

    def device_memory(self) -> dict[str, float]:
        """The framework's own peak of device memory, for GPU cells ({} on the CPU)."""
        if self.s.device == "cpu":
            return {}
        if self.keras_backend == "tensorflow":
            import tensorflow as tf

            return {"device_peak_mb": tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20}
        if self.keras_backend == "jax":
            import jax

            stats = jax.devices()[0].memory_stats() or {}
            peak = stats.get("peak_bytes_in_use")
            return {"device_peak_mb": peak / 2**20} if peak is not None else {}
        import torch

        return {"device_peak_mb": torch.cuda.max_memory_allocated() / 2**20,
                "device_reserved_peak_mb": torch.cuda.max_memory_reserved() / 2**20}

    def describe(self) -> dict[str, Any]:
        s = self.s
        backend = self.keras_backend
        info: dict[str, Any] = {"framework": f"keras-{backend}", "keras": keras.__version__}
        gpu = False
        if backend == "tensorflow":
            import tensorflow as tf

            gpu = bool(tf.config.list_physical_devices("GPU"))
            info.update({
                "tensorflow": tf.__version__,
                "threads": tf.config.threading.get_intra_op_parallelism_threads() or self.threads,
                "intra_op_threads_config": tf.config.threading.get_intra_op_parallelism_threads(),
                "inter_op_threads_config": tf.config.threading.get_inter_op_parallelism_threads(),
                "TF_NUM_INTRAOP_THREADS": os.environ.get("TF_NUM_INTRAOP_THREADS"),
                "TF_NUM_INTEROP_THREADS": os.environ.get("TF_NUM_INTEROP_THREADS"),
                "flush_denormal": "TensorFlow flushes denormals in its own threads (always on)",
            })
        elif backend == "jax":
            import jax

            gpu = jax.default_backend() == "gpu"
            info.update({
                "jax": jax.__version__,
                "jax_platform": jax.default_backend(),
                "threads": len(os.sched_getaffinity(0)),  # XLA's pool follows the CPU affinity
                "threads_requested": self.threads,
                "XLA_FLAGS": os.environ.get("XLA_FLAGS"),
                "flush_denormal": "XLA's CPU code flushes denormals (always on)",
            })
        else:
            import torch

            from rnnbench.backends.kernels import torch_flushes_denormals

            gpu = torch.cuda.is_available()
            info.update({
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "interop_threads": torch.get_num_interop_threads(),
                "flush_denormal": s.flush_denormal,
                "denormals_flushed": torch_flushes_denormals(),
            })
        if self.thread_note:
            info["thread_note"] = self.thread_note
        from rnnbench.architectures import CLASSIC, load

        path, flags = kernel_path(s, backend, gpu) if s.arch in CLASSIC else (load(s.arch).kernel(s, "keras"), [])
        if self.kernel_ops is not None:
            from rnnbench.backends.kernels import recurrent_ops

            info["kernel_ops"] = recurrent_ops(self.kernel_ops)
        info["kernel_source"] = self.kernel_source
        info.update({
            "kernel": path,
            "kernel_note": "; ".join(flags),
            "kernel_flags": flags,
            "gpu": gpu,
            "impl": s.impl,
            "optimizer": "keras.optimizers.RMSprop" if s.optimizer == "rmsprop" else "keras.optimizers.Adam",
            "adam_update": "keras",
            "adam_epsilon": s.adam_epsilon if s.adam_epsilon is not None else _DEFAULT_EPSILON,
            "init": s.init,
        })
        if s.device != "cpu":
            info.update(_gpu_facts(backend))
        jit = bool(getattr(self.model, "jit_compile", False)) if self.model else False
        info["mode"] = s.mode
        info["compiled"] = {
            "tensorflow": "XLA: the train step compiled by XLA (jit_compile)" if jit else
                          "no XLA: the train step as a tf.function graph",
            "jax": "jax.jit: the train step compiled by XLA" if jit else "no jit: JAX op by op",
            "torch": "torch.compile of the train step (Keras's jit_compile)" if jit else "eager torch ops",
        }[backend]
        info["jit_compile"] = jit
        if self.model is not None:
            from rnnbench.architectures import CLASSIC

            info["recurrent_layers"] = ([type(self.model.get_layer(f"rnn_{i}")).__name__ for i in range(s.layers)]
                                        if s.arch in CLASSIC else [type(self.model.get_layer("rnn")).__name__])
        return info
