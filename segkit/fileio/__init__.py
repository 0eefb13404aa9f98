"""Reading checkpoint files: weights_only loading with segkit's allowlist, hash-named files checked, truncated or
foreign files refused by name. Used by the models (``init_cfg=dict(type='Pretrained')``) and by the engine
(``load_from``, ``--resume``, ``tools/test.py``), so it depends on neither; writing checkpoints is the engine's
(:mod:`segkit.engine.checkpoint`)."""
