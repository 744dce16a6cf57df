"""The one array mechanism (manigeo._backend): dispatch, optional torch, and
the shared spectral function with its Daleckii-Krein backward."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from manigeo import _backend as B

_NO_TORCH = textwrap.dedent(
    """
    import sys

    class _Block:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ImportError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, _Block())
    import numpy as np
    import manigeo
    from manigeo import spd
    from manigeo._backend import import_torch

    X = np.stack([np.eye(3), 4 * np.eye(3)])
    assert np.allclose(spd.mean(X), 2 * np.eye(3))
    assert spd.SPDStandardScaler(with_std=False).fit_transform(X).shape == (2, 3, 3)
    for load in (import_torch, lambda: __import__("manigeo.nn").nn.LieBatchNormSPD):
        try:
            load()
        except ImportError as exc:
            assert 'pip install "manigeo[torch]"' in str(exc), exc
        else:
            raise AssertionError("no ImportError")
    assert "torch" not in sys.modules
    print("ok")
    """
)


def test_numpy_paths_work_without_torch_and_torch_features_name_the_extra():
    out = subprocess.run(
        [sys.executable, "-c", _NO_TORCH], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_dispatch_helpers():
    x = np.ones((2, 2))
    t = torch.ones(2, 2, dtype=torch.float64)
    assert not B.is_torch(x) and B.is_torch(t)
    assert B.get_namespace(x).__name__ == "array_api_compat.numpy"
    assert B.get_namespace(t).__name__ == "array_api_compat.torch"
    with pytest.raises(TypeError, match="mix array libraries"):
        B.get_namespace(x, t)
    assert isinstance(B.to_numpy(t.requires_grad_(True)), np.ndarray)
    assert B.resolve_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            B.resolve_device("cuda")


@pytest.mark.parametrize("make", [np.asarray, torch.as_tensor])
def test_linalg_helpers_agree_across_backends(rng, make):
    A = rng.normal(size=(3, 4, 4))
    X = A @ np.swapaxes(A, -1, -2) + 4 * np.eye(4)
    L = B.cholesky(make(X))
    np.testing.assert_allclose(B.to_numpy(L @ B.mT(L)), X, rtol=1e-12)
    W = B.congruence_inv_chol(L[0], make(X))
    np.testing.assert_allclose(B.to_numpy(W[0]), np.eye(4), atol=1e-12)
    np.testing.assert_allclose(
        B.to_numpy(B.trace(make(X))), np.trace(X, axis1=1, axis2=2)
    )
    d = B.diag_embed(make(np.arange(3.0)))
    np.testing.assert_array_equal(B.to_numpy(d), np.diag(np.arange(3.0)))
    w = B.as_weights(None, make(X))
    np.testing.assert_allclose(B.to_numpy(B.weighted_sum(make(X), w)), X.mean(0))
    with pytest.raises(ValueError, match="not positive definite"):
        B.cholesky(make(-X))
    with pytest.raises(ValueError, match="non-negative"):
        B.as_weights(make(np.array([1.0, -1.0, 1.0])), make(X))


def _pinv_sqrt(w, p):
    # the sheaf Laplacian's degree normalisation (pseudo-inverse square root)
    ok = w > 1e-12 * w.abs().amax(-1, keepdim=True)
    ws = torch.where(ok, w, torch.ones_like(w))
    f = torch.where(ok, ws.rsqrt(), torch.zeros_like(w))
    return f, torch.where(ok, -0.5 * ws.pow(-1.5), torch.zeros_like(w)), None


@pytest.mark.parametrize(
    "X0",
    [np.eye(4), np.diag([1.0, 1.0, 2.0, 3.0]), np.diag([0.5, 0.5, 2.0, 2.0])],
    ids=["identity", "repeated", "two-pairs"],
)
def test_one_spectral_backward_gradcheck(X0):
    """The backward used by spd.logm & co. and by the sheaf Laplacian."""
    X = torch.tensor(X0, requires_grad=True)
    f = lambda X: B.spectral_function(0.5 * (X + X.mT), _pinv_sqrt)  # noqa: E731
    assert torch.autograd.gradcheck(f, (X,), eps=1e-7, atol=1e-5, rtol=1e-4)
    # at a diagonal matrix the gradient is the Loewner matrix times sym(G)
    G = torch.tensor(np.arange(16.0).reshape(4, 4))
    (f(X) * G).sum().backward()
    w = torch.tensor(np.diag(X0))
    fw, dfw, _ = _pinv_sqrt(w, None)
    K = B.loewner(w, fw, dfw).numpy()
    np.testing.assert_allclose(X.grad.numpy(), K * 0.5 * (G + G.T).numpy(), atol=1e-12)


def test_pseudo_inverse_gradient_finite_at_singular_blocks():
    X = torch.tensor(np.diag([0.0, 0.0, 2.0, 2.0]), requires_grad=True)
    B.spectral_function(X, _pinv_sqrt).sum().backward()
    assert torch.isfinite(X.grad).all()


def test_sheaf_laplacian_uses_the_shared_spectral_function(monkeypatch):
    from manigeo.sheaf import _laplacian

    calls = []

    def spy(X, fn, p=None, **kw):
        calls.append(X.shape)
        return B.spectral_function(X, fn, p, **kw)

    monkeypatch.setattr(_laplacian, "spectral_function", spy)
    S = _laplacian._torch_inv_sqrt(torch.eye(3, dtype=torch.float64)[None] * 4.0)
    assert calls and torch.allclose(S, 0.5 * torch.eye(3, dtype=torch.float64))


def test_spectral_function_output_is_exactly_symmetric(rng):
    A = rng.normal(size=(5, 6, 6))
    X = A @ np.swapaxes(A, -1, -2) + np.eye(6)
    fn = lambda w, p: (np.log(w), 1 / w, None)  # noqa: E731
    F = B.spectral_function(X, fn)
    np.testing.assert_array_equal(F, np.swapaxes(F, -1, -2))
    Ft = B.spectral_function(torch.tensor(X), lambda w, p: (w.log(), 1 / w, None))
    assert torch.equal(Ft, Ft.mT)
