"""Encoder-decoder segmentor: backbone (+ neck) -> decode head (+ auxiliary heads)."""
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel

from segkit.models.inference.crf import refine_predictions
from segkit.models.inference.fast_net import InferenceNetCache
from segkit.models.inference.multi_scale import multi_scale_flip_logits
from segkit.models.inference.options import InferenceOptions
from segkit.models.fast_conv import route_convolutions
from segkit.models.feature_info import feature_info_of, with_feature_info
from segkit.models.heads.decode_head import DecodeHead, stack_labels
from segkit.models.inference.predictions import logits_to_predictions
from segkit.models.output_stride import check_output_stride, with_output_stride
from segkit.registry import BACKBONES, DATA_PREPROCESSORS, HEADS, NECKS, POSTPROCESSORS, SEGMENTORS
from segkit.structures import SegDataSample

from . import pretrained

#: where ``train_cfg.compile`` puts the compiled :meth:`EncoderDecoder.train_losses` (an instance attribute, not a
#: submodule: out of ``state_dict()``; a deep copy of the model, such as an EMA copy, runs eagerly)
COMPILED_TRAIN_LOSSES = '_compiled_train_losses'


@SEGMENTORS.register_module()
class EncoderDecoder(BaseModel):
    """The DeepLab model: a (dilated) backbone, an optional neck, a decode head and auxiliary heads.

    ``forward(inputs, data_samples, mode)`` follows mmengine: ``'loss'`` returns the loss dict (decode head keys
    prefixed ``decode.``, auxiliary ``aux.`` / ``aux_{i}.``), ``'predict'`` returns :class:`SegDataSample` s with
    ``seg_logits`` and ``pred_sem_seg`` at each image's original size, ``'tensor'`` returns raw head logits.

    ``test_cfg`` says how inference runs (whole image or sliding windows, autocast, BN folding, torch.compile, a
    runtime backend, multi-scale + flip, the DenseCRF, the binary threshold): it is validated once into
    :class:`~segkit.models.inference.options.InferenceOptions` (``self.inference_options``), which every inference
    step reads. ``channels_last=True`` keeps weights and activations in NHWC, for training and inference alike
    (faster convolutions on CPUs and tensor cores).

    ``output_stride`` (8, 16 or 32) switches the whole model: it goes to the backbone (which must take it and then
    derives its strides and dilations), and to the neck and heads whose classes take an ``output_stride`` argument
    (ASPP heads rescale their rates). Weights do not depend on it: a checkpoint trained at 16 runs at 8 or 32.

    A backbone (or neck) that reports ``feature_info`` (channels and reduction of each returned feature, e.g.
    ``TimmBackbone``) fills the head arguments a config leaves out: ``in_channels`` / ``in_index`` and the v3+
    decoder's stride-4 ``low_level_index`` / ``low_level_in_channels`` (:mod:`segkit.models.feature_info`).

    ``save_pretrained(DIR)`` / ``push_to_hub('user/repo')`` write the model as one folder (weights, config,
    classes, card; :mod:`.pretrained`), which ``segkit.from_pretrained`` rebuilds.
    """

    def __init__(self, *, backbone: dict, decode_head: dict, neck: Optional[dict] = None,
                 auxiliary_head: Optional[Union[dict, Sequence[dict]]] = None, train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None, data_preprocessor: Optional[dict] = None,
                 output_stride: Optional[int] = None, channels_last: bool = False, init_cfg: Optional[dict] = None):
        if isinstance(data_preprocessor, Mapping):
            data_preprocessor = DATA_PREPROCESSORS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.output_stride = check_output_stride('EncoderDecoder', output_stride)
        if output_stride is not None:
            backbone = with_output_stride('backbone', backbone, BACKBONES, output_stride, required=True)
            neck = None if neck is None else with_output_stride('neck', neck, NECKS, output_stride)
            decode_head = with_output_stride('decode_head', decode_head, HEADS, output_stride)
        self.backbone = BACKBONES.build(backbone)
        self.neck = NECKS.build(neck) if neck is not None else None
        features = self.neck if self.neck is not None else self.backbone
        info = feature_info_of(features)
        source = f'model.{"neck" if self.neck is not None else "backbone"} (type={type(features).__name__})'
        decode_head = with_feature_info('decode_head', decode_head, HEADS, info, source)
        self.decode_head = HEADS.build(decode_head)
        self.num_classes = self.decode_head.num_classes
        self.align_corners = self.decode_head.align_corners
        aux_cfgs = [] if auxiliary_head is None else (
            [auxiliary_head] if isinstance(auxiliary_head, Mapping) else list(auxiliary_head))
        if output_stride is not None:
            aux_cfgs = [with_output_stride('auxiliary_head', cfg, HEADS, output_stride) for cfg in aux_cfgs]
        aux_cfgs = [with_feature_info('auxiliary_head', cfg, HEADS, info, source) for cfg in aux_cfgs]
        self.auxiliary_heads = nn.ModuleList(HEADS.build(cfg) for cfg in aux_cfgs)
        self.train_cfg = dict(train_cfg or {})
        self.inference_options = InferenceOptions.from_test_cfg(test_cfg, num_classes=self.num_classes,
                                                                channels_last=channels_last)
        route_convolutions(self)  # atrous and depthwise convolutions by their fastest exact route (fast_conv.py)
        if channels_last:  # parameters keep the layout through init_weights and load_state_dict (in-place copies)
            self.to(memory_format=torch.channels_last)

    @property
    def inference_options(self) -> InferenceOptions:
        return self._inference_options

    @inference_options.setter
    def inference_options(self, options: InferenceOptions) -> None:
        """Replace how inference runs (the fast copy and the CRF follow)."""
        self._inference_options = options
        self.crf = POSTPROCESSORS.build(dict(options.crf)) if options.crf is not None else None
        self.__dict__.pop('_fast_net', None)

    @property
    def channels_last(self) -> bool:
        return self.inference_options.channels_last

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # MMSegmentation names a single auxiliary head 'auxiliary_head' and a list of them 'auxiliary_head.i'.
        legacy = prefix + 'auxiliary_head.'
        single = len(self.auxiliary_heads) == 1
        for key in [k for k in state_dict if k.startswith(legacy)]:
            rest = key[len(legacy):]
            new_rest = f'0.{rest}' if single else rest
            state_dict[prefix + 'auxiliary_heads.' + new_rest] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # ---------------------------------------------------------------------------------------------- saving
    def save_pretrained(self, folder: Union[str, Path], **kwargs) -> Path:
        """Write this model as a saved-model folder; see :func:`.pretrained.save_pretrained` for the arguments."""
        return pretrained.save_pretrained(self, folder, **kwargs)

    def push_to_hub(self, repo_id: str, **kwargs):
        """Save and upload to Hugging Face Hub repository ``repo_id``; see :func:`.pretrained.push_to_hub`."""
        return pretrained.push_to_hub(self, repo_id, **kwargs)

    # ----------------------------------------------------------------------------------------------- features
    def extract_feat(self, inputs: torch.Tensor) -> List[torch.Tensor]:
        if self.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        feats = self.backbone(inputs)
        return self.neck(feats) if self.neck is not None else feats

    def encode_decode(self, inputs: torch.Tensor, batch_img_metas: List[dict]) -> torch.Tensor:
        """Logits at the input's size."""
        options = self.inference_options
        if self.training or (options.autocast is None and not options.copies_network):
            return self.decode_head.predict(self.extract_feat(inputs), batch_img_metas)
        with torch.autocast(device_type=inputs.device.type, dtype=getattr(torch, options.autocast or 'bfloat16'),
                            enabled=options.autocast is not None):
            if options.copies_network:
                logits = self.decode_head.resize_to_input(self._fast_forward(inputs), batch_img_metas)
            else:
                logits = self.decode_head.predict(self.extract_feat(inputs), batch_img_metas)
        return logits.float()

    def _fast_forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Head logits from the transformed copy the inference options ask for (built on first use, following
        the weights when they change); see :mod:`segkit.models.inference.fast_net`."""
        cache = self.__dict__.setdefault('_fast_net', InferenceNetCache())  # not a submodule: out of state_dict()
        net = cache.get(self, self.backbone, self.neck, self.decode_head, self.inference_options, example=inputs,
                        preprocess=self._preprocess_image)
        if self.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return net(inputs)

    def _preprocess_image(self, image: torch.Tensor) -> torch.Tensor:
        """A loaded ``3 x H x W`` uint8 image as the network's input batch (int8 calibration)."""
        inputs = self.data_preprocessor(dict(inputs=[image]), training=False)['inputs']
        return torch.stack(inputs).float() if isinstance(inputs, (list, tuple)) else inputs.float()

    # ------------------------------------------------------------------------------------------------- modes
    def forward(self, inputs: torch.Tensor, data_samples: Optional[List[SegDataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.decode_head(self.extract_feat(inputs))
        raise ValueError(f"EncoderDecoder.forward: mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    def loss(self, inputs: torch.Tensor, data_samples: List[SegDataSample]) -> Dict[str, torch.Tensor]:
        labels = stack_labels(data_samples)
        compiled = self.__dict__.get(COMPILED_TRAIN_LOSSES)  # train_cfg.compile (segkit.engine.compile)
        return (compiled or self.train_losses)(inputs, labels, data_samples)

    def train_losses(self, inputs: torch.Tensor, labels: torch.Tensor,
                     data_samples: Optional[List[SegDataSample]] = None) -> Dict[str, torch.Tensor]:
        """The training forward on tensors: preprocessed ``inputs`` and ``N x H x W`` int64 ``labels`` -> the
        loss dict. What ``train_cfg.compile`` compiles; ``data_samples`` only reach heads without
        ``loss_by_labels`` (a head class of one's own that overrides ``loss``)."""
        feats = self.extract_feat(inputs)
        losses = {f'decode.{k}': v for k, v in self._head_losses(self.decode_head, feats, labels, data_samples).items()}
        for i, head in enumerate(self.auxiliary_heads):
            tag = 'aux' if len(self.auxiliary_heads) == 1 else f'aux_{i}'
            losses.update({f'{tag}.{k}': v for k, v in self._head_losses(head, feats, labels, data_samples).items()})
        return losses

    def _head_losses(self, head: nn.Module, feats, labels: torch.Tensor, data_samples) -> Dict[str, torch.Tensor]:
        if hasattr(head, 'loss_by_labels') and type(head).loss is DecodeHead.loss:
            return head.loss_by_labels(feats, labels)
        return head.loss(feats, data_samples, self.train_cfg)

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List[SegDataSample]] = None) -> List[SegDataSample]:
        if data_samples is None:
            h, w = inputs.shape[-2:]
            data_samples = [SegDataSample(metainfo=dict(ori_shape=(h, w), img_shape=(h, w), pad_shape=(h, w),
                                                        padding_size=[0, 0, 0, 0])) for _ in range(len(inputs))]
        metas = [s.metainfo for s in data_samples]
        results = self.postprocess_result(self.inference(inputs, metas), data_samples)
        if self.crf is not None:
            results = refine_predictions(self.crf, results, inputs, self.data_preprocessor,
                                         self.inference_options.binary_threshold)
        return results

    # --------------------------------------------------------------------------------------------- inference
    def inference(self, inputs: torch.Tensor, batch_img_metas: List[dict]) -> torch.Tensor:
        for meta in batch_img_metas:
            meta.setdefault('batch_input_shape', tuple(inputs.shape[-2:]))
        options = self.inference_options
        forward = self.slide_inference if options.mode == 'slide' else self.encode_decode
        if options.tta is not None:
            return multi_scale_flip_logits(forward, inputs, batch_img_metas, align_corners=self.align_corners,
                                           scales=options.tta.scales, flip=options.tta.flip)
        return forward(inputs, batch_img_metas)

    def slide_inference(self, inputs: torch.Tensor, batch_img_metas: List[dict]) -> torch.Tensor:
        """Average the logits of ``crop_size`` windows moved by ``stride`` over the image (last windows are
        shifted back inside the image, so every window is full-size where the image allows)."""
        crop_h, crop_w = self.inference_options.crop_size
        stride_h, stride_w = self.inference_options.stride
        n, _, h, w = inputs.shape
        logits = inputs.new_zeros((n, self.num_classes, h, w))
        counts = inputs.new_zeros((1, 1, h, w))
        rows = max(h - crop_h + stride_h - 1, 0) // stride_h + 1
        cols = max(w - crop_w + stride_w - 1, 0) // stride_w + 1
        for r in range(rows):
            for c in range(cols):
                y2, x2 = min(r * stride_h + crop_h, h), min(c * stride_w + crop_w, w)
                y1, x1 = max(y2 - crop_h, 0), max(x2 - crop_w, 0)
                crop = inputs[:, :, y1:y2, x1:x2]
                metas = [dict(meta, img_shape=crop.shape[2:], batch_input_shape=crop.shape[2:])
                         for meta in batch_img_metas]
                logits[:, :, y1:y2, x1:x2] += self.encode_decode(crop, metas)
                counts[:, :, y1:y2, x1:x2] += 1
        return logits / counts

    def postprocess_result(self, seg_logits: torch.Tensor,
                           data_samples: List[SegDataSample]) -> List[SegDataSample]:
        """Remove padding, undo a pipeline flip, resize logits to the original image size, take the labels."""
        return logits_to_predictions(seg_logits, data_samples, align_corners=self.align_corners,
                                     threshold=self.inference_options.binary_threshold)
