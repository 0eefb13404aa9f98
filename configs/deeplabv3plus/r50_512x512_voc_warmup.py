# r50_512x512_voc.py with a linear warm-up before the poly decay: the learning rate rises linearly from
# 0.001 x 0.01 to 0.01 over the first 1000 iterations (Goyal et al. 2017), then decays as poly from there to 40k.
# Useful with large batches or auto_scale_lr raising the rate (tools/train.py --auto-scale-lr).
_base_ = './r50_512x512_voc.py'
warmup_iters = 1000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='PolyLR', eta_min=1e-4, power=0.9, by_epoch=False, begin=warmup_iters, end=40000),
]
