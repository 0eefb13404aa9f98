# Multi-scale + flip evaluation (the papers' "MS + Flip") for every dataset config: tools/test.py CONFIG CKPT --tta
# runs these scales and their mirror images inside the model (model.test_cfg.tta).
tta_scales = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
