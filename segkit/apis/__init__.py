from .inference import inference_model, init_model, show_result

__all__ = ['init_model', 'inference_model', 'show_result']
