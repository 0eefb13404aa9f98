"""A model wrapper for distributed runs that only evaluate: each rank runs the model as it is."""
from torch import nn

from segkit.registry import MODEL_WRAPPERS

__all__ = ['LocalModelWrapper']


@MODEL_WRAPPERS.register_module()
class LocalModelWrapper(nn.Module):
    """What ``tools/test.py`` / ``dist_test.sh`` / ``slurm_test.sh`` wrap the model in instead of
    DistributedDataParallel: evaluation synchronises no gradients, so each rank runs ``val_step`` / ``test_step``
    of its own copy (the Runner gathers the metrics' results). DDP would refuse a model without trainable
    parameters, such as an exported model (:class:`~segkit.deployment.BackendSegmentor`), and otherwise only
    broadcasts weights that every rank loads from the checkpoint anyway.

    Registered in mmengine's model-wrapper registry (a child of it), so ``runner.model.module`` is the model, as
    with DDP.
    """

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def train_step(self, data, optim_wrapper):
        raise RuntimeError('LocalModelWrapper runs evaluation only: training on several processes needs '
                           "model_wrapper_cfg=dict(type='MMDistributedDataParallel') (tools/train.py's default)")

    def val_step(self, data):
        return self.module.val_step(data)

    def test_step(self, data):
        return self.module.test_step(data)
