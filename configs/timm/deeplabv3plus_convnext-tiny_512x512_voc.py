# DeepLabv3+ (paper form, output stride 16) with timm's ConvNeXt-T encoder, VOC 2012 aug; configs/timm/README.md.
# ImageNet weights: timm's convnext_tiny.in12k_ft_in1k, from $SEGKIT_WEIGHTS (default checkpoints/):
#   huggingface-cli download timm/convnext_tiny.in12k_ft_in1k model.safetensors \
#       --local-dir checkpoints/convnext_tiny.in12k_ft_in1k
# or from the Hugging Face cache: --cfg-options model.backbone.init_cfg=None model.backbone.pretrained=True
_base_ = '../_base_/deeplabv3plus_timm_512x512_voc.py'
weights = '{{$SEGKIT_WEIGHTS:checkpoints}}/convnext_tiny.in12k_ft_in1k/model.safetensors'
model = dict(backbone=dict(model_name='convnext_tiny', init_cfg=dict(type='Pretrained', checkpoint=weights)))
# ConvNeXt trains with AdamW (its paper, and MMSegmentation's ConvNeXt configs): lr 1e-4, weight decay 0.05, 1500
# iterations of linear warm-up before the poly decay.
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05))
param_scheduler = [dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
                   dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=40000, by_epoch=False)]
