"""``tools/train.py --auto-scale-lr``: the linear learning-rate scaling rule (Goyal et al., 2017) for configs run
on another number of devices or images per device than they were written for."""
from mmengine.config import Config
from mmengine.logging import print_log

__all__ = ['enable_auto_scale_lr']


def enable_auto_scale_lr(cfg: Config) -> Config:
    """Turn on mmengine's ``auto_scale_lr``, counting gradient accumulation in the real batch.

    The Runner multiplies every learning rate by (world size x ``train_dataloader.batch_size``) /
    ``auto_scale_lr.base_batch_size`` when training starts (before the schedulers record it) and logs the ratio.
    It does not know about ``optim_wrapper.accumulative_counts``: one optimizer step then sees that many batches,
    so ``base_batch_size`` is divided by it here, which gives the same ratio.
    """
    scale = cfg.get('auto_scale_lr')
    if not scale or not scale.get('base_batch_size'):
        raise KeyError('--auto-scale-lr needs auto_scale_lr=dict(base_batch_size=N) in the config: the total batch '
                       "(devices x images per device) its learning rate was written for; the dataset _base_ "
                       'configs set it')
    accumulate = int(cfg.get('optim_wrapper', {}).get('accumulative_counts', 1))
    scale['enable'] = True
    written_for = scale['base_batch_size']
    if accumulate > 1:
        scale['base_batch_size'] = written_for / accumulate if written_for % accumulate else written_for // accumulate
    print_log(f'auto_scale_lr: the learning rate was written for a batch of {written_for}; it will be scaled by '
              f'(world size x {cfg.train_dataloader.batch_size} images'
              + (f' x {accumulate} accumulated steps' if accumulate > 1 else '') + f') / {written_for}',
              logger='current')
    return cfg
