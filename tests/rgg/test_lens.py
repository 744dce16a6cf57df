import numpy as np
import pytest

from manigeo.rgg import ball_volume, edge_moments, invert_lens, lens_fraction
from manigeo.rgg._lens import PosteriorMeanRule, lens_fraction_derivative


def test_phi2_closed_form():
    u = np.linspace(0, 2, 101)
    closed = (2 * np.arccos(u / 2) - (u / 2) * np.sqrt(4 - u * u)) / np.pi
    np.testing.assert_allclose(lens_fraction(u, 2), closed, atol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_phi_monte_carlo(d):
    rng = np.random.default_rng(d)
    m = 400_000
    g = rng.normal(size=(m, d))
    P = (
        g
        / np.linalg.norm(g, axis=1, keepdims=True)
        * rng.uniform(size=(m, 1)) ** (1 / d)
    )
    for u in (0.3, 1.0, 1.6):
        shift = np.zeros(d)
        shift[0] = u
        mc = np.mean(np.linalg.norm(P - shift, axis=1) <= 1)
        assert abs(mc - lens_fraction(u, d)) < 0.005


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_phi_endpoints_monotone_derivative(d):
    assert lens_fraction(0.0, d) == pytest.approx(1.0)
    assert lens_fraction(2.0, d) == pytest.approx(0.0, abs=1e-15)
    u = np.linspace(0, 2, 500)
    assert np.all(np.diff(lens_fraction(u, d)) < 0)
    h = 1e-6
    x = np.linspace(0.1, 1.9, 7)
    fd = (lens_fraction(x + h, d) - lens_fraction(x - h, d)) / (2 * h)
    np.testing.assert_allclose(lens_fraction_derivative(x, d), fd, rtol=1e-5)


def test_ball_volume_and_moments_table():
    assert ball_volume(2) == pytest.approx(np.pi)
    assert ball_volume(3) == pytest.approx(4 * np.pi / 3)
    table = {1: 0.7500, 2: 0.5865, 3: 0.4688, 4: 0.3798, 5: 0.3105}
    for d, m in table.items():
        assert edge_moments(d) == pytest.approx(m, abs=6e-5)
    # Monte Carlo of E[phi_d(U)] with U ~ d u^(d-1)
    U = np.random.default_rng(0).uniform(size=200_000) ** (1 / 3)
    assert edge_moments(3) == pytest.approx(lens_fraction(U, 3).mean(), abs=2e-3)


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_inversion_round_trip(d):
    u = np.linspace(0, 1, 777)
    np.testing.assert_allclose(invert_lens(lens_fraction(u, d), d), u, atol=2e-5)
    assert invert_lens(1.5, d) == 0.0  # clipped: above phi(0)
    assert invert_lens(0.0, d) == 1.0  # below phi(1): an edge is at most r long


def test_posterior_mean_rule_is_calibrated_and_beats_clip():
    rng = np.random.default_rng(1)
    d, q, K = 2, 0.5, 60.0
    u = rng.uniform(size=200_000) ** (1 / d)
    C = rng.binomial(int(K), q * lens_fraction(u, d))
    post = PosteriorMeanRule(d, q, K)(C / K, np.full(len(C), K))
    clip = invert_lens(np.minimum(C / K / q, 1), d)
    # tower property: E[E[u | C]] = E[u]
    assert abs(post.mean() - u.mean()) < 0.003
    assert np.mean((post - u) ** 2) < 0.8 * np.mean((clip - u) ** 2)
    # large K: posterior mean ~ exact inversion of the noiseless similarity
    big = PosteriorMeanRule(d, 1.0, 1e6)
    s = lens_fraction(np.array([0.3, 0.6, 0.9]), d)
    np.testing.assert_allclose(big(s, np.full(3, 1e6)), [0.3, 0.6, 0.9], atol=0.01)
