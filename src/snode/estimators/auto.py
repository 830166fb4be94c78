"""The estimators' "auto" rules: each setting left at "auto" resolved from the data's size, the
network and the other settings. The rules only; the measurements that chose them, with the
commands that reproduce them, are in docs/decisions.md.

Every function takes checked parameter values (:func:`snode.estimators.params.validate`).
"""
__all__ = ["n_steps", "layout", "schedule", "memory", "sobolev_weight", "step_rule",
           "AUTO_STEPS", "AUTO_STEPS_MIN", "AUTO_STEPS_WORK", "AUTO_MEMORY", "AUTO_MEMORY_BYTES",
           "AUTO_SOBOLEV_WEIGHT", "AUTO_STEP", "LARGE", "LARGE_BATCH", "EPOCHS"]

#: n_steps="auto": AUTO_STEPS depth steps, fewer (down to AUTO_STEPS_MIN) where a sweep over
#: the training set would exceed AUTO_STEPS_WORK = samples x width^2 x steps.
AUTO_STEPS = 60
AUTO_STEPS_MIN = 10
AUTO_STEPS_WORK = 6e7
#: memory="auto": this many L-BFGS pairs in full-batch mode, fewer where the pairs (two vectors
#: of the weights' size each) would take more than AUTO_MEMORY_BYTES.
AUTO_MEMORY = 40
AUTO_MEMORY_BYTES = 256 * 2**20
#: sobolev_weight="auto": the hybrid gradient's weight in full-batch mode (1, the Sobolev
#: gradient, with mini-batches).
AUTO_SOBOLEV_WEIGHT = 0.5
#: ncg_options' step "auto": the line search of each direction.
AUTO_STEP = {"lbfgs": "wolfe", "conjugate": "sensitivity"}
#: batch_size="auto": full batch up to LARGE training samples, mini-batches of LARGE_BATCH
#: above (one epoch by default: epochs="auto").
LARGE = 10000
LARGE_BATCH = 100
#: epochs="auto": EPOCHS passes, one where batch_size "auto" chose mini-batches.
EPOCHS = 10


def n_steps(value, n_samples, width):
    """The network's depth steps for `n_samples` training samples (over all processes) and
    the width: `value`, or for "auto" ``min(60, max(10, 6e7 // (N width^2)))``."""
    if value != "auto":
        return value
    work = max(1.0, n_samples) * width * width
    return int(min(AUTO_STEPS, max(AUTO_STEPS_MIN, AUTO_STEPS_WORK // work)))


def layout(width, input_offset, m, n_out):
    """The network's width and the inputs' first component for m features and n_out outputs
    (the `width` and `input_offset` parameters).

    Raises
    ------
    ValueError
        If the width cannot hold the features or the outputs, or an explicit offset puts the
        inputs past it.
    """
    auto = input_offset == "auto"
    offset = n_out if auto else input_offset
    if width is None:
        width = max(offset + m, max(m, n_out) + 2)
    elif width == "inputs":
        width = max(m, n_out) if auto else max(offset + m, n_out)
    if width < max(m, n_out):
        raise ValueError(f"width {width} is below the number of features ({m}) or "
                         f"outputs ({n_out})")
    if auto:  # (the inputs as far from the outputs as the width lets them be)
        offset = min(offset, width - m)
    elif offset + m > width:
        raise ValueError(f"input_offset {offset} puts the last of the {m} inputs past the "
                         f"width {width}")
    return width, offset


def schedule(batch_size, epochs, n_samples):
    """(batch_size, epochs) for `n_samples` training samples (over all processes): "auto"
    batch sizes give full batch (None) up to :data:`LARGE` samples and batches of
    :data:`LARGE_BATCH` above; "auto" epochs give :data:`EPOCHS`, or 1 where the automatic
    batch size chose mini-batches."""
    chose = batch_size == "auto" and n_samples > LARGE
    if batch_size == "auto":
        batch_size = LARGE_BATCH if chose else None
    if epochs == "auto":
        epochs = 1 if chose else EPOCHS
    return batch_size, epochs


def memory(value, beta, batch_size, n_weights):
    """NCG's L-BFGS pairs: `value`, or for "auto" 0 with a conjugate rule (`beta`) or in
    mini-batch mode (the memory would be forgotten at every batch), else
    :data:`AUTO_MEMORY`, at most :data:`AUTO_MEMORY_BYTES` of pairs for `n_weights` weights."""
    if value != "auto":
        return value
    if beta is not None or batch_size is not None:
        return 0
    return max(0, min(AUTO_MEMORY, AUTO_MEMORY_BYTES // (16 * n_weights)))


def sobolev_weight(value, batch_size):
    """NCG's hybrid-gradient weight: `value`, or for "auto" :data:`AUTO_SOBOLEV_WEIGHT` in
    full-batch mode and 1 (the Sobolev gradient) in mini-batch mode."""
    if value != "auto":
        return value
    return 1.0 if batch_size is not None else AUTO_SOBOLEV_WEIGHT


def step_rule(ncg_options, memory):
    """NCG's line search: ncg_options' "step", or for "auto" (the default) the strong-Wolfe
    search for the L-BFGS direction (`memory` > 0) and the sensitivity step for the
    conjugate ones."""
    step = (ncg_options or {}).get("step", "auto")
    if isinstance(step, str) and step == "auto":
        return AUTO_STEP["lbfgs" if memory else "conjugate"]
    return step
