"""How a segmentor runs inference: the options (built once from ``model.test_cfg``), the fast network copy,
multi-scale + flip, the CRF step and the one logits -> predictions function."""
from .options import BackendOptions, Calibration, InferenceOptionError, InferenceOptions, TTAOptions
from .predictions import labels_from_logits, logits_to_predictions, to_probabilities

__all__ = ['BackendOptions', 'Calibration', 'InferenceOptionError', 'InferenceOptions', 'TTAOptions',
           'labels_from_logits', 'logits_to_predictions', 'to_probabilities']
