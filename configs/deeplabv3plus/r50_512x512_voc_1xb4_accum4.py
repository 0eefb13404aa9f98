# r50_512x512_voc.py (written for 4 GPUs x 4 images) on one device: 4 images per iteration and gradients
# accumulated over 4 iterations, so every SGD update sees the papers' batch of 16 and the learning rate stays 0.01.
# mmengine counts iterations, not updates: the 40k updates are 160k iterations, and the schedule, validation and
# checkpoints are given in iterations. BN still normalises over the 4 images of each iteration.
_base_ = './r50_512x512_voc.py'
accumulate = 4
train_dataloader = dict(batch_size=4)
optim_wrapper = dict(accumulative_counts=accumulate)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=40000 * accumulate, by_epoch=False)]
train_cfg = dict(max_iters=40000 * accumulate, val_interval=4000 * accumulate)
default_hooks = dict(checkpoint=dict(interval=4000 * accumulate))
