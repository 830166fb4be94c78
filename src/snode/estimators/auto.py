"""The estimators' "auto" rules: each setting left at "auto" resolved from the data's size, the
network and the other settings. The rules only; the measurements that chose them, with the
commands that reproduce them, are in docs/decisions.md.

Every function takes checked parameter values (:func:`snode.estimators.params.validate`).
"""
__all__ = ["n_steps", "block_size", "layout", "schedule", "memory", "sobolev_weight",
           "step_rule", "decays",
           "early_stopping", "folds", "stage_iterations", "CV_MIN_VALIDATION", "CV_FOLDS",
           "CV_MAX_WORK",
           "DECAY_PATH", "DECAY_PATH_ITER", "DECAY_PATH_PATIENCE", "DECAY_FIXED",
           "AUTO_STEPS", "AUTO_STEPS_MIN", "AUTO_STEPS_WORK", "AUTO_MEMORY", "AUTO_MEMORY_BYTES",
           "AUTO_SOBOLEV_WEIGHT", "AUTO_STEP", "LARGE", "LARGE_BATCH", "EPOCHS"]

#: n_steps="auto": AUTO_STEPS depth steps, fewer (down to AUTO_STEPS_MIN) where a sweep over
#: the training set would exceed AUTO_STEPS_WORK = samples x width^2 x steps.
AUTO_STEPS = 10
AUTO_STEPS_MIN = 4
AUTO_STEPS_WORK = 3.5e7
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


#: decay="auto" with early stopping in full-batch mode: regularisation paths, each from the
#: initial weights, the weight decay lowered stage by stage along it, DECAY_PATH_ITER
#: iterations a stage (fewer where max_iter would not reach the last), each stage going on
#: from the last; the weights with the lowest validation cost over all of them are kept. A
#: path ends after DECAY_PATH_PATIENCE stages that did not lower that cost; where its last
#: stage still lowered it, training goes on at its decay under early stopping's rule
#: (patience: n_iter_no_change checks or a stage's iterations, the more). Otherwise
#: DECAY_FIXED[kind]. (A classifier's path from a decay of 0.1 or more settles where the
#: lower decays of its later stages do not lead it out: spirals ended at 0.66 accuracy.)
DECAY_PATH = {"classifier": ((0.03, 0.01, 0.003, 0.001, 0.0003),),
              "regressor": ((0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0003),)}
DECAY_PATH_ITER = 25
DECAY_PATH_PATIENCE = 2
DECAY_FIXED = {"classifier": 1e-4, "regressor": 0.0}
#: A held-out share of fewer than CV_MIN_VALIDATION samples chooses a path's stage by chance:
#: there decay="auto" chooses it by CV_FOLDS folds of the training samples instead, then
#: trains on all of them to that stage, unless a sweep's work (samples x width^2 x steps)
#: exceeds CV_MAX_WORK: the folds' 5 paths would then take more than about a second (on the
#: Zen 3 machine of docs/decisions.md; 50 samples of 500 features took 78 s), and
#: early_stopping="auto" trains on every sample at the fixed decay instead.
CV_MIN_VALIDATION = 10
CV_FOLDS = 5
CV_MAX_WORK = 2e6


def folds(n_samples, fraction, paths, work=0.0):
    """The folds that choose the stage of decay `paths` (:func:`decays`) for `n_samples`
    training samples and a validation `fraction`, where a sweep over them is `work`
    (samples x width^2 x steps): 0 (a held-out share decides) where the paths have one
    stage or the share would hold at least :data:`CV_MIN_VALIDATION` samples; else
    :data:`CV_FOLDS`, or None where there are fewer samples than folds or the work exceeds
    :data:`CV_MAX_WORK` (too few to hold out, too costly to fold)."""
    path = sum(len(p) for p in paths) > 1
    if not path or round(fraction * n_samples) >= CV_MIN_VALIDATION:
        return 0
    if n_samples < CV_FOLDS or work > CV_MAX_WORK:
        return None
    return CV_FOLDS


def stage_iterations(max_iter, paths):
    """The iterations of each stage of the decay `paths`: :data:`DECAY_PATH_ITER`, fewer
    where `max_iter` would not reach the last stage (at least one)."""
    return max(1, min(DECAY_PATH_ITER, max_iter // sum(len(path) for path in paths)))


def early_stopping(value, batch_size, can_gather=True):
    """Whether a validation share watches the training: `value`, or for "auto" in full-batch
    mode (mini-batch runs see each sample rarely). Several processes draw the held-out
    samples from the whole data set as one process would, which they gather for it; where
    their reducer cannot (`can_gather` False: no ``allgather``), "auto" is off."""
    if value != "auto":
        return value
    return batch_size is None and can_gather


def block_size(value, n_samples):
    """The block of the sums over samples for `n_samples` training samples (over all
    processes): `value`, or for None :func:`snode.reduce.block_size_for` (from the number of
    samples alone, so that the processes' sums are bit for bit one process's)."""
    from ..reduce import block_size_for

    return block_size_for(n_samples) if value is None else value


def decays(value, kind, validated, batch_size, fitted=None):
    """The weight decays of training's stages, as paths (a tuple of tuples, each path from the
    initial weights): `value` alone, or for "auto" the paths :data:`DECAY_PATH` of the
    estimator's `kind` where a validation share watches the training (`validated`) in
    full-batch mode, else :data:`DECAY_FIXED`; a warm start (`fitted`: the fitted network's
    decay) goes on with the fitted decay."""
    if value != "auto":
        return ((value,),)
    if fitted is not None:
        return ((fitted,),)
    if validated and batch_size is None:
        return DECAY_PATH[kind]
    return ((DECAY_FIXED[kind],),)


def n_steps(value, n_samples, width):
    """The network's depth steps for `n_samples` training samples (over all processes) and
    the width: `value`, or for "auto" ``min(10, max(4, 3.5e7 // (N width^2)))``."""
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
