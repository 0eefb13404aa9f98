# The DeepLab v1/v2 training recipe for VGG-16 (arXiv:1606.00915, Sec. 4.1): SGD with momentum 0.9 and weight
# decay 5e-4, base learning rate 0.001 and 10x on the classifier layers (the paper's "0.01 for the final classifier
# layer"; every decode_head.classifier parameter matches the key), "poly" decay (1 - iter/max_iter)^0.9, 20k
# iterations. DeepLab v1 itself decayed the rate in steps (x0.1 every 2000 iterations); v2 found poly better.
_base_ = './schedule_20k.py'
optimizer = dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=0.0005)
optim_wrapper = dict(optimizer=optimizer,
                     paramwise_cfg=dict(custom_keys={'decode_head.classifier': dict(lr_mult=10.0)}))
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=20000, by_epoch=False)]
