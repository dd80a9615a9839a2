"""The NumPy network and optimizers against PyTorch (CPU, float64) as an independent reference.

1. Forward/backward: the same network with the same weights (and the same dropout masks, the same batch-norm
   running statistics) gives the same cost, logits and gradient of every parameter as torch autograd, for
   random shapes and depths (1–4 hidden layers), every hidden activation, both output layers, L2, dropout and
   batch norm (training mode, with the running-statistics update; evaluation mode), with one run (R = 1) and
   with R = 3 runs trained together (each run compared with torch on that run alone).
2. Optimizers: several steps with fixed random gradients and a varying learning rate give the same weights
   as torch.optim for every optimizer whose convention PyTorch shares (sgd, momentum, nesterov, rmsprop, adam,
   adamw), with the mappings documented at each test.
3. The largest relative difference of all checks is recorded in ``MAX_DIFF`` and printed by the last test
   (``python -m pytest tests/test_torch_reference.py -q -s``).

relative difference = ‖a − b‖ / max(‖b‖, tiny), b = torch.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from nnbench.initializers import He  # noqa: E402
from nnbench.losses import targets  # noqa: E402
from nnbench.network import Network  # noqa: E402
from nnbench.optimizers import OPTIMIZERS  # noqa: E402
from nnbench.schedules import InverseTime  # noqa: E402

DT = torch.float64
TINY = np.finfo(np.float64).tiny
GRAD_TOL = 1e-10  # cost and gradients
STEP_TOL = 1e-12  # weights after the optimizer steps

# (check name, relative difference) of every comparison made; the last test prints the largest.
DIFFS: list[tuple[str, float]] = []
MAX_DIFF: list[float] = [0.0]  # the running maximum (a list so that it can be quoted by other code)


def rel(a, b) -> float:
    a = np.asarray(a.detach().numpy() if isinstance(a, torch.Tensor) else a, dtype=np.float64)
    b = np.asarray(b.detach().numpy() if isinstance(b, torch.Tensor) else b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), TINY))


def check(name: str, ours, ref, tol: float) -> float:
    d = rel(ours, ref)
    DIFFS.append((name, d))
    MAX_DIFF[0] = max(MAX_DIFF[0], d)
    assert d < tol, f"{name}: relative difference {d:.3e} ≥ {tol:.0e}"
    return d


# -- the torch network, written out functionally --------------------------------------------------------

TORCH_ACT = {
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=0.01),
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
}


def torch_run(net: Network, params, X, y, r, *, train, masks, bn_state, n):
    """Run r of the NumPy arrays as one torch network: returns (loss, logits (m, n_L), leaf tensors by our
    parameter names, running statistics by our names (updated in training mode))."""
    leaves = {}
    for k, v in params.items():
        a = v[r]
        if not k.startswith("W"):  # b, gamma, beta: (n_l, 1) → (n_l,)
            a = a[:, 0]
        leaves[k] = torch.tensor(a, dtype=DT, requires_grad=True)
    running = {k: torch.tensor(v[r, :, 0], dtype=DT) for k, v in (bn_state or {}).items()}
    A = torch.tensor(X[r].T, dtype=DT)  # samples first: (m, n_0)
    act = TORCH_ACT[net.activation]
    L = net.n_layers
    for l in range(1, L + 1):
        Z = A @ leaves[f"W{l}"].T
        if net.batchnorm and l < L:
            # our ρ is the weight of the old average; torch's momentum the weight of the batch statistic
            Z = F.batch_norm(
                Z,
                running[f"mean{l}"],
                running[f"var{l}"],
                weight=leaves[f"gamma{l}"],
                bias=leaves[f"beta{l}"],
                training=train,
                momentum=1 - net.bn_momentum,
                eps=net.bn_eps,
            )
        else:
            Z = Z + leaves[f"b{l}"]
        if l == L:
            break
        A = act(Z)
        if masks is not None and masks[l - 1] is not None:
            A = A * torch.tensor(masks[l - 1][r].T, dtype=DT) / net.keep_prob[l - 1]
    if net.sizes[-1] == 1:
        loss = torch.nn.BCEWithLogitsLoss()(Z, torch.tensor(y[r][:, None], dtype=DT))  # mean reduction
    else:
        loss = F.cross_entropy(Z, torch.tensor(y[r], dtype=torch.long))  # mean reduction
    if net.l2:
        loss = loss + net.l2 / (2 * n) * sum((leaves[f"W{l}"] ** 2).sum() for l in range(1, L + 1))
    loss.backward()
    return loss, Z, leaves, running


# -- the cases ------------------------------------------------------------------------------------------

ACTIVATIONS = ["relu", "leaky_relu", "tanh", "sigmoid"]
OUTPUTS = ["sigmoid", "softmax"]
# name → (l2, dropout, batchnorm, train, n as a multiple of the batch size m)
REGS = {
    "plain": (0.0, False, False, True, 1),
    "l2": (0.7, False, False, True, 1),
    "l2_n4m": (0.7, False, False, True, 4),  # L2 with a training set 4× the batch (a mini-batch step)
    "dropout": (0.0, True, False, True, 1),
    "bn_train": (0.0, False, True, True, 1),
    "bn_eval": (0.0, False, True, False, 1),
    "l2_dropout_bn": (0.3, True, True, True, 1),
}


def make_case(activation, output, reg, runs, seed):
    """A random architecture (1–4 hidden layers), parameters (He, then biases, γ, β perturbed so that they
    matter), data, dropout masks and running statistics, all from ``seed``."""
    rng = np.random.default_rng(seed)
    l2, dropout, bn, train, n_mult = REGS[reg]
    depth = int(rng.integers(1, 5))
    n_out = 1 if output == "sigmoid" else int(rng.integers(3, 6))
    sizes = (int(rng.integers(2, 7)), *(int(h) for h in rng.integers(2, 9, size=depth)), n_out)
    keep = tuple(float(k) for k in rng.uniform(0.5, 0.9, size=depth)) if dropout else ()
    net = Network(sizes, activation=activation, keep_prob=keep, batchnorm=bn, l2=l2)
    params = net.init_params(He(), [np.random.default_rng(seed * 10 + r) for r in range(runs)])
    for k, v in params.items():
        if k[0] in "bg" or k.startswith("beta"):
            v += rng.normal(0.0, 0.3, size=v.shape)
    m = int(rng.integers(6, 20))
    X = rng.normal(0.0, 1.5, size=(runs, sizes[0], m))
    y = rng.integers(0, max(n_out, 2), size=(runs, m))
    masks = [rng.random(shape) < kp for shape, kp in net.dropout_shapes(runs, m)] if dropout else None
    bn_state = None
    if bn:
        bn_state = net.init_bn_state(runs)
        for k, v in bn_state.items():  # non-trivial running statistics
            v[...] = rng.normal(0, 0.5, v.shape) if k.startswith("mean") else rng.uniform(0.5, 2.0, v.shape)
    return net, params, X, y, masks, bn_state, train, n_mult * m


CASES = [(a, o, g) for a in ACTIVATIONS for o in OUTPUTS for g in REGS]


@pytest.mark.parametrize("runs", [1, 3])
@pytest.mark.parametrize(("activation", "output", "reg"), CASES)
def test_forward_backward_matches_torch(activation, output, reg, runs):
    seed = 1000 * runs + CASES.index((activation, output, reg))
    net, params, X, y, masks, bn_state, train, n = make_case(activation, output, reg, runs, seed)
    Y = targets(y, net.sizes[-1])
    tag = f"{activation}/{output}/{reg}/R={runs}"

    # the cost through the public cost() (no running-statistics update: bn_state=None in training)
    cost = net.cost(params, X, Y, train=train, masks=masks, bn_state=None if train else bn_state, n=n)
    before = {k: v.copy() for k, v in (bn_state or {}).items()}
    Z_L, cache = net.forward(params, X, train=train, masks=masks, bn_state=bn_state)
    grads = net.backward(params, cache, Z_L, Y, n=n)
    assert set(grads) == set(params)

    for r in range(runs):
        loss, Zt, leaves, running = torch_run(net, params, X, y, r, train=train, masks=masks, bn_state=before, n=n)
        check(f"{tag} run {r} cost", cost[r], loss, GRAD_TOL)
        check(f"{tag} run {r} logits", Z_L[r].T, Zt, GRAD_TOL)
        if not train:
            continue  # see test_bn_eval_backward_is_the_training_formula
        for k, leaf in leaves.items():
            ours = grads[k][r] if k.startswith("W") else grads[k][r, :, 0]
            check(f"{tag} run {r} d{k}", ours, leaf.grad, GRAD_TOL)
        for k in bn_state or {}:  # running statistics after one training step (torch momentum = 1 − ρ)
            check(f"{tag} run {r} running {k}", bn_state[k][r, :, 0], running[k], GRAD_TOL)
    if bn_state is not None and not train:  # evaluation leaves the running statistics alone
        for k in bn_state:
            np.testing.assert_array_equal(bn_state[k], before[k])


def test_bn_eval_backward_uses_the_running_statistics_as_constants():
    net, params, X, y, masks, bn_state, train, n = make_case("tanh", "softmax", "bn_eval", 1, 7)
    Y = targets(y, net.sizes[-1])
    Z_L, cache = net.forward(params, X, train=False, bn_state=bn_state)
    grads = net.backward(params, cache, Z_L, Y, n=n)
    _, _, leaves, _ = torch_run(net, params, X, y, 0, train=False, masks=None, bn_state=bn_state, n=n)
    for k, leaf in leaves.items():
        ours = grads[k][0] if k.startswith("W") else grads[k][0, :, 0]
        assert rel(ours, leaf.grad) < GRAD_TOL, k


# -- optimizers -----------------------------------------------------------------------------------------

STEPS = 3
SCHEDULE = InverseTime(lr0=0.05, rate=0.5)  # a different α at every step: the mappings must hold per step


OPT_NET = Network((4, 6, 5, 3), batchnorm=True)  # the optimizer problems' network: W, b, γ, β all present


def opt_problem(seed=0, runs=2):
    """Parameters of a batch-normalized network (W, b, γ, β all present) and STEPS random gradients."""
    rng = np.random.default_rng(seed)
    net = OPT_NET
    params = net.init_params(He(), [np.random.default_rng(seed + r) for r in range(runs)])
    for v in params.values():
        v += rng.normal(0.0, 0.3, v.shape)
    grads = [{k: rng.normal(0.0, 1.0, v.shape) for k, v in params.items()} for _ in range(STEPS)]
    return params, grads


def run_ours(name, options, params, grads):
    opt = OPTIMIZERS[name](**options)
    p = {k: v.copy() for k, v in params.items()}
    state = opt.init(p, None if opt.mask is None else opt.mask(OPT_NET.roles()))  # AdamW: decay by role
    history = []
    for t, g in enumerate(grads):
        opt.update(p, g, state, SCHEDULE(t))
        history.append({k: v.copy() for k, v in p.items()})
    return history, state


def torch_params(params):
    # The optimizers are elementwise, so the (R, ...) arrays can be stepped as single tensors.
    return {k: torch.tensor(v, dtype=DT, requires_grad=True) for k, v in params.items()}


def run_torch(make_opt, params, grads, lr_of=lambda a: a, start=0, presets=None):
    """Step torch from ``params`` with grads[start:], the learning rate lr_of(α_t) at step t."""
    tp = torch_params(params)
    opt = make_opt(tp)
    if presets:
        presets(opt, tp)
    history = []
    for t in range(start, len(grads)):
        for group in opt.param_groups:
            group["lr"] = lr_of(SCHEDULE(t))
        for k, p in tp.items():
            p.grad = torch.tensor(grads[t][k], dtype=DT)
        opt.step()
        history.append({k: p.detach().numpy().copy() for k, p in tp.items()})
    return history


def compare(tag, ours_history, torch_history, start=0):
    assert len(torch_history) == len(ours_history) - start
    for i, th in enumerate(torch_history):
        t = start + i
        for k in th:
            check(f"{tag} step {t + 1} {k}", ours_history[t][k], th[k], STEP_TOL)


def test_sgd():
    params, grads = opt_problem(1)
    ours, _ = run_ours("sgd", {}, params, grads)
    theirs = run_torch(lambda tp: torch.optim.SGD(tp.values(), lr=0.0, momentum=0.0), params, grads)
    compare("sgd", ours, theirs)


BETA = 0.9


def test_momentum_scaled_lr():
    """Mapping A, exact from step 1: ours v_t = (1 − β) Σ_k β^(t−k) g_k = (1 − β)·buf_t with torch's
    buf_t = β buf_(t−1) + g_t (momentum = β, dampening = 0, buf_1 = g_1), so W ← W − α v_t is torch's
    W ← W − lr·buf_t with lr = α·(1 − β) at every step (also with a schedule)."""
    params, grads = opt_problem(2)
    ours, _ = run_ours("momentum", {"beta": BETA}, params, grads)
    theirs = run_torch(
        lambda tp: torch.optim.SGD(tp.values(), lr=0.0, momentum=BETA, dampening=0.0),
        params,
        grads,
        lr_of=lambda a: a * (1 - BETA),
    )
    compare("momentum lr·(1−β)", ours, theirs)


def test_momentum_dampening_with_zero_buffer():
    """Mapping B, exact from step 1: momentum = dampening = β gives buf ← β buf + (1 − β) g, our EMA, except
    that torch's first step sets buf = g (no dampening) when it has no buffer yet. Pre-setting torch's
    momentum_buffer to our v₀ = 0 removes that special case: then buf_t = v_t and lr = α."""
    params, grads = opt_problem(3)
    ours, _ = run_ours("momentum", {"beta": BETA}, params, grads)

    def zero_buffers(opt, tp):
        for p in tp.values():
            opt.state[p]["momentum_buffer"] = torch.zeros_like(p)

    theirs = run_torch(
        lambda tp: torch.optim.SGD(tp.values(), lr=0.0, momentum=BETA, dampening=BETA),
        params,
        grads,
        presets=zero_buffers,
    )
    compare("momentum dampening=β buf₀=0", ours, theirs)


def test_momentum_dampening_from_step_two():
    """Mapping C: plain torch SGD(momentum = β, dampening = β, lr = α) differs at step 1 (torch moves by α g₁,
    we by α (1 − β) g₁); once torch's weights and buffer are set to ours after step 1, every later step agrees."""
    params, grads = opt_problem(4)
    ours, state = run_ours("momentum", {"beta": BETA}, params, grads)
    first = run_torch(lambda tp: torch.optim.SGD(tp.values(), lr=0.0, momentum=BETA, dampening=BETA), params, grads[:1])
    moved_ours = np.linalg.norm(ours[0]["W1"] - params["W1"])
    moved_torch = np.linalg.norm(first[0]["W1"] - params["W1"])
    assert moved_ours == pytest.approx((1 - BETA) * moved_torch, rel=1e-12)  # step 1: torch moves 1/(1−β)×

    # ours after step 1, v₁ = (1 − β) g₁, rebuilt independently of our optimizer's state
    v1 = {k: (1 - BETA) * g for k, g in grads[0].items()}
    for k in v1:
        np.testing.assert_allclose(ours[0][k] - params[k], -SCHEDULE(0) * v1[k], rtol=1e-12, atol=1e-15)

    def buffers(opt, tp):
        for k, p in tp.items():
            opt.state[p]["momentum_buffer"] = torch.tensor(v1[k], dtype=DT)

    theirs = run_torch(
        lambda tp: torch.optim.SGD(tp.values(), lr=0.0, momentum=BETA, dampening=BETA),
        ours[0],
        grads,
        start=1,
        presets=buffers,
    )
    compare("momentum dampening=β from step 2", ours, theirs, start=1)


def test_nesterov_scaled_lr():
    """Nesterov with mapping A: torch (nesterov=True, dampening = 0) steps by lr·(g_t + β buf_t); with
    lr = α (1 − β) and buf_t = v_t/(1 − β) that is α((1 − β) g_t + β v_t), our look-ahead step."""
    params, grads = opt_problem(5)
    ours, _ = run_ours("nesterov", {"beta": BETA}, params, grads)
    theirs = run_torch(
        lambda tp: torch.optim.SGD(tp.values(), lr=0.0, momentum=BETA, dampening=0.0, nesterov=True),
        params,
        grads,
        lr_of=lambda a: a * (1 - BETA),
    )
    compare("nesterov lr·(1−β)", ours, theirs)


def test_rmsprop():
    """torch alpha = our β, eps the same (added outside the root), centered=False, momentum=0."""
    params, grads = opt_problem(6)
    ours, _ = run_ours("rmsprop", {"beta": 0.9, "eps": 1e-8}, params, grads)
    theirs = run_torch(
        lambda tp: torch.optim.RMSprop(tp.values(), lr=0.0, alpha=0.9, eps=1e-8, momentum=0.0, centered=False),
        params,
        grads,
    )
    compare("rmsprop", ours, theirs)


def test_adam():
    params, grads = opt_problem(7)
    ours, _ = run_ours("adam", {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}, params, grads)
    theirs = run_torch(lambda tp: torch.optim.Adam(tp.values(), lr=0.0, betas=(0.9, 0.999), eps=1e-8), params, grads)
    compare("adam", ours, theirs)


def test_adamw():
    """Ours decays only the weight matrices W*: torch gets them in a group with weight_decay, and the biases,
    γ and β in a group with weight_decay = 0 (torch decays every parameter of a group)."""
    params, grads = opt_problem(8)
    wd = 0.3  # large, so that a wrongly decayed bias, γ or β would show
    ours, _ = run_ours("adamw", {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": wd}, params, grads)

    def make(tp):
        groups = [
            {"params": [p for k, p in tp.items() if k.startswith("W")], "weight_decay": wd},
            {"params": [p for k, p in tp.items() if not k.startswith("W")], "weight_decay": 0.0},
        ]
        assert groups[0]["params"] and groups[1]["params"]
        return torch.optim.AdamW(groups, lr=0.0, betas=(0.9, 0.999), eps=1e-8)

    theirs = run_torch(make, params, grads)
    compare("adamw", ours, theirs)


# -- summary --------------------------------------------------------------------------------------------


def test_zz_summary():
    """Print the largest relative difference of all checks (run with -s); runs last (file order)."""
    if not DIFFS:
        pytest.skip("no comparison ran (run the whole module)")
    worst = max(DIFFS, key=lambda d: d[1])
    grads = [d for n, d in DIFFS if " step " not in n]
    steps = [d for n, d in DIFFS if " step " in n]
    print(
        f"\ntorch {torch.__version__} reference: {len(DIFFS)} comparisons; largest relative difference "
        f"{MAX_DIFF[0]:.3e} ({worst[0]})"
    )
    if grads:
        print(f"  forward/backward: {len(grads)} comparisons, max {max(grads):.3e} (tolerance {GRAD_TOL:.0e})")
    if steps:
        print(f"  optimizer steps:  {len(steps)} comparisons, max {max(steps):.3e} (tolerance {STEP_TOL:.0e})")
    assert MAX_DIFF[0] == worst[1]
