"""The lightweight family beside the MobileNets: SqueezeNet, ShuffleNet V2, MnasNet, EfficientNet-B0 and the
heavy references ResNet-18/-50 and VGG-16 — registered, counted, timed and placed on a roofline.

* :mod:`explainer.registry` — one :class:`~explainer.registry.ModelSpec` per model (builder, family,
  published top-1 and its source, file size);
* :mod:`explainer.zoo.network` — any registered model layer by layer (the module-walking counter of
  :mod:`explainer.counting`) with memory traffic and arithmetic intensity per layer;
* :mod:`explainer.zoo.roofline` — this machine's peak and bandwidth, and each layer against the roofs;
* :mod:`explainer.zoo.latency` — measured forward time per model, and the zoo table;
* :mod:`explainer.zoo.blocks` — each family's key block for a shape the student sets (cost engine).
"""
