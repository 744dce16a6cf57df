"""Hyperparameters of ``bench_heterophily.py`` (one place, documented).

Sheaf models (``nsd_*``, ``conn_nsd``, ``identity_sheaf``) start from the
configurations published with the reference NSD code
(``twitter-research/neural-sheaf-diffusion``, ``exp/scripts/run_<dataset>.sh``):

* Texas: BundleSheaf, d=3, 4 layers, 20 channels, lr 0.02, weight decay 5e-3,
  dropout 0.7, input dropout 0;
* Wisconsin: BundleSheaf, d=3 (+ low- and high-pass coordinates), 2 layers,
  32 channels, lr 0.02, weight decay 6.7e-4, dropout 0.728, input dropout 0;
* Cornell: DiagSheaf, d=4 (+ NSD's ``add_lp`` coordinate), 2 layers, 16 channels,
  lr 0.02, weight decay 6.9e-4 (sheaf learner 3.2e-4), dropout 0.7, input
  dropout 0.2;

NSD's ``add_lp`` coordinate has Laplacian off-diagonal entries +1 (the
signless Laplacian D + A, a high-pass channel in ``X - L X``) and ``add_hp``
entries -1 (the graph Laplacian): they are manigeo's ``add_hp`` and ``add_lp``,
whose names follow the filter the diffusion step applies.  The translation is
made below.

with NSD's training protocol: Adam, up to 500 epochs, early stopping on the
validation loss with patience 200, the test accuracy read at the epoch of
the best validation loss.  The same architecture is used for every sheaf type
on a dataset (only the sheaf changes).  ``epochs`` may be lowered on the
command line (``--epochs``) to fit a time budget.

MLP and GCN: the usual Geom-GCN / H2GCN baseline settings, 2 layers, 64
hidden units, dropout 0.5, lr 0.01, weight decay 5e-4, same stopping rule.
"""

TRAINING = {"epochs": 500, "patience": 200, "seed": 43}

BASELINES = {
    "mlp": {"hidden": 64, "dropout": 0.5, "lr": 0.01, "weight_decay": 5e-4},
    "gcn": {"hidden": 64, "dropout": 0.5, "lr": 0.01, "weight_decay": 5e-4},
}

SHEAF = {
    "texas": {
        "stalk_dim": 3,
        "num_layers": 4,
        "hidden_channels": 20,
        "dropout": 0.7,
        "input_dropout": 0.0,
        "add_lp": False,
        "add_hp": False,
        "lr": 0.02,
        "weight_decay": 5e-3,
        "sheaf_decay": 5e-3,
    },
    "wisconsin": {
        "stalk_dim": 3,
        "num_layers": 2,
        "hidden_channels": 32,
        "dropout": 0.7276458263736642,
        "input_dropout": 0.0,
        "add_lp": True,
        "add_hp": True,
        "lr": 0.02,
        "weight_decay": 0.0006685729356079199,
        "sheaf_decay": 0.0006685729356079199,
    },
    "cornell": {
        "stalk_dim": 4,
        "num_layers": 2,
        "hidden_channels": 16,
        "dropout": 0.7,
        "input_dropout": 0.2,
        "add_lp": False,
        "add_hp": True,  # NSD's add_lp=True
        "lr": 0.02,
        "weight_decay": 0.0006914841722570725,
        "sheaf_decay": 0.00031764232712732976,
    },
}

# model name -> SheafDiffusion(sheaf=...)
SHEAF_MODELS = {
    "nsd_diag": "diagonal",
    "nsd_orth": "orthogonal",
    "nsd_general": "general",
    "conn_nsd": "connection",
    "identity_sheaf": "identity",
}

# published 10-split mean test accuracy (%), see issue 15 / the papers
PUBLISHED = {
    "texas": {
        "mlp": 80.8,
        "gcn": 55.1,
        "nsd_diag": 85.7,
        "nsd_orth": 86.0,
        "conn_nsd": 86.2,
    },
    "wisconsin": {
        "mlp": 85.3,
        "gcn": 51.8,
        "nsd_diag": 88.6,
        "nsd_orth": 89.4,
        "conn_nsd": 88.7,
    },
    "cornell": {
        "mlp": 81.9,
        "gcn": 60.5,
        "nsd_diag": 86.5,
        "nsd_orth": 84.9,
        "conn_nsd": 86.0,
    },
}
