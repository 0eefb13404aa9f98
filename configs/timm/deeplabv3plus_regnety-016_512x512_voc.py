# DeepLabv3+ (paper form, output stride 16) with timm's RegNetY-1.6GF encoder, VOC 2012 aug; configs/timm/README.md.
# ImageNet weights: timm's regnety_016.tv2_in1k, from $SEGKIT_WEIGHTS (default checkpoints/):
#   huggingface-cli download timm/regnety_016.tv2_in1k model.safetensors \
#       --local-dir checkpoints/regnety_016.tv2_in1k
# or from the Hugging Face cache: --cfg-options model.backbone.init_cfg=None model.backbone.pretrained=True
_base_ = '../_base_/deeplabv3plus_timm_512x512_voc.py'
weights = '{{$SEGKIT_WEIGHTS:checkpoints}}/regnety_016.tv2_in1k/model.safetensors'
model = dict(backbone=dict(model_name='regnety_016', init_cfg=dict(type='Pretrained', checkpoint=weights)))
