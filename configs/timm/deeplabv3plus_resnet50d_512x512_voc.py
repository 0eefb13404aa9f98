# DeepLabv3+ (paper form, output stride 16) with timm's ResNet-50d encoder, VOC 2012 aug; configs/timm/README.md.
# ImageNet weights: timm's resnet50d.ra2_in1k, from $SEGKIT_WEIGHTS (default checkpoints/):
#   huggingface-cli download timm/resnet50d.ra2_in1k model.safetensors \
#       --local-dir checkpoints/resnet50d.ra2_in1k
# or from the Hugging Face cache: --cfg-options model.backbone.init_cfg=None model.backbone.pretrained=True
_base_ = '../_base_/deeplabv3plus_timm_512x512_voc.py'
weights = '{{$SEGKIT_WEIGHTS:checkpoints}}/resnet50d.ra2_in1k/model.safetensors'
model = dict(backbone=dict(model_name='resnet50d', init_cfg=dict(type='Pretrained', checkpoint=weights)))
