"""Transfer learning, Teachable-Machine style: teach a frozen MobileNet new classes.

Conventions (the same in the app, the CLI and the tests):

* **Data** (:mod:`~explainer.transfer.datasets`): torchvision's ``ImageFolder``
  layout, one folder per class, classes in sorted folder order. A folder that
  holds a ``train/`` subfolder (the tutorial's ``hymenoptera_data``) is read
  from ``train/``. Unreadable files are skipped and reported, never fatal.
* **Features** (:mod:`~explainer.transfer.embed`): the backbone's last feature
  map, global-average-pooled (MobileNetV2: 1280 values, V3-Large 960,
  V3-Small 576), of the weights' own preprocessing; cached by photo SHA-256 +
  model.
* **Hold-out** (:func:`~explainer.transfer.datasets.holdout_split`): in each
  class, photos in sorted name order, every fifth one (positions 5, 10, …) is
  held out; a class with fewer than five photos holds out its last one.
* **Head** (:mod:`~explainer.transfer.head`): multinomial logistic
  regression on the features, float64 on the CPU, full-batch L-BFGS with a
  small L2 penalty, zero start: the same photos give the same head.
* **CAM** (:mod:`~explainer.transfer.cam`): for a linear head on pooled
  features, Grad-CAM equals the class-activation map (Zhou et al. 2016)
  exactly; for ImageNet classifiers the gradient is taken with
  ``torch.autograd.grad`` on a detached copy of the feature map, so the
  shared model is never changed.
"""
